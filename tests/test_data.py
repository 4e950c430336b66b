"Datasets in their real on-disk formats through the real code, policies, splits and the batched path (all offline)."
import csv, json, os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import lightning as L

os.environ['VISIONLAB_OFFLINE'] = '1'          # nothing may download in tests

from visionlab.core import POLICIES, ConfigError
from visionlab.config import compose
from visionlab.augment import ImageStats, build_policy, build_batched, resolve_policy
from visionlab.data import (BaseDataModule, CIFAR10DataModule, CIFAR100DataModule, CSVRegressionDataModule, DigitsDataModule,
                            ImageFileDataset, ImageFolderDataModule, SyntheticDataModule, datamodule_from_config, fold_indices, read_cifar)
from fixtures import write_cifar, write_image_folder

CIFAR = ImageStats(mean=(0.49, 0.48, 0.45), std=(0.25, 0.24, 0.26), family='cifar', native_size=32)
IMAGENET = ImageStats(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), size=40)


# --- policies ---------------------------------------------------------------------------------
@pytest.mark.parametrize('name', sorted(n for n in POLICIES.names() if not POLICIES.entry(n).meta.get('generic')))
def test_every_policy_maps_uint8_to_normalised_float(name):
    family = POLICIES.entry(name).meta.get('family')
    torch.manual_seed(0)
    for stats, img, shape in [(CIFAR, torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8), (3, 32, 32)),
                              (IMAGENET, torch.randint(0, 256, (3, 50, 70), dtype=torch.uint8), (3, 40, 40))]:
        if family == 'imagenet' and stats is CIFAR: stats, shape = ImageStats(**{**CIFAR.__dict__, 'size': 32}), (3, 32, 32)
        if family == 'cifar' and stats is IMAGENET: continue       # CIFAR crops keep the stored size
        out = build_policy(name, stats)(img)
        assert out.shape == shape and out.dtype == torch.float32, name
        assert -4 < out.mean() < 4 and 0 < out.std() < 4, name


@pytest.mark.parametrize('name', ['baseline', 'autoaugment', 'randaugment', 'reference_randaugment', 'test'])
def test_generic_names_resolve_per_family(name):
    assert resolve_policy(name, CIFAR).name == f'cifar_{name}'
    assert resolve_policy(name, IMAGENET).name == f'imagenet_{name}'


def test_batched_twin_matches_per_image_normalisation():
    img = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    per_image = torch.stack([build_policy('test', CIFAR)(x) for x in img])
    torch.testing.assert_close(build_batched('test', CIFAR)(img), per_image, atol=1e-5, rtol=1e-5)


def test_batched_crop_flip_cutout_distribution():
    "Fixed seed: pixel means and zero frequencies of the two paths agree within 5 standard errors."
    from visionlab.augment import compare_paths
    a, b = compare_paths('baseline_cutout', CIFAR, torch.randint(1, 256, (3, 32, 32), dtype=torch.uint8), n=2000)
    za, zb = (a == 0).float().mean(0), (b == 0).float().mean(0)
    se = ((za * (1 - za) * 2 / len(a)).sqrt()).clamp_min(2e-3)
    assert ((za - zb).abs() / se).max() < 5
    se = ((a.var(0) + b.var(0)) / len(a)).sqrt().clamp_min(1e-3)
    assert ((a.mean(0) - b.mean(0)).abs() / se).max() < 5


# --- the reference's RandAugment and AutoAugment ----------------------------------------------
def chi_square_pvalue(counts: Counter, k: int) -> float:
    "p-value of `counts` over `k` outcomes against a uniform draw (an outcome never drawn counts as 0)."
    from scipy.stats import chisquare
    observed = list(counts.values()) + [0] * (k - len(counts))
    return chisquare(observed).pvalue


def test_reference_randaugment_draws_15_ops_x_9_magnitudes_each_with_p_half():
    "50,000 images, fixed seed: uniform over ops, magnitudes 1-9 and their 135 pairs, independent steps, p = 0.5 (chi-square p > 0.001)."
    from visionlab.augment import REFERENCE_OPS, reference_randaugment
    torch.manual_seed(0)
    ra = reference_randaugment()
    draws = [ra.draw() for _ in range(50_000)]
    steps = [s for d in draws for s in d]
    ops, mags = Counter(op for op, _, _ in steps), Counter(i for _, i, _ in steps)
    assert set(ops) == set(REFERENCE_OPS) and set(mags) == set(range(1, 10)) and {len(d) for d in draws} == {2}
    for counts, k in [(ops, 15), (mags, 9), (Counter((op, i) for op, i, _ in steps), 135),
                      (Counter((a[0], b[0]) for a, b in draws), 225), (Counter(applied for *_, applied in steps), 2)]:
        assert chi_square_pvalue(counts, k) > 1e-3, (k, counts.most_common(3))
    applied = sum(a for *_, a in steps) / len(steps)
    assert abs(applied - 0.5) < 5 * (0.25 / len(steps)) ** 0.5


def _pil_reference(pil, op: str, m, sign: int):
    "What the reference does to a PIL image for `op` at magnitude `m` with random sign `sign`, written with PIL."
    from PIL import Image, ImageEnhance, ImageOps
    grey, w, h, m = (128, 128, 128), *pil.size, 0 if m is None else m     # the reference's magnitude of Invert etc. is 0
    affine = {'ShearX': ((1, m * sign, 0, 0, 1, 0), Image.BICUBIC), 'ShearY': ((1, 0, 0, m * sign, 1, 0), Image.BICUBIC),
              'TranslateX': ((1, 0, m * w * sign, 0, 1, 0), Image.NEAREST), 'TranslateY': ((1, 0, 0, 0, 1, m * h * sign), Image.NEAREST)}
    enhance = {'Color': ImageEnhance.Color, 'Contrast': ImageEnhance.Contrast, 'Sharpness': ImageEnhance.Sharpness,
               'Brightness': ImageEnhance.Brightness}
    if op in affine: return pil.transform(pil.size, Image.AFFINE, affine[op][0], affine[op][1], fillcolor=grey)
    if op in enhance: return enhance[op](pil).enhance(1 + m * sign)
    if op == 'Rotate':
        rot = pil.convert('RGBA').rotate(m)
        return Image.composite(rot, Image.new('RGBA', rot.size, (128,) * 4), rot).convert('RGB')
    return {'Posterize': lambda: ImageOps.posterize(pil, m), 'Solarize': lambda: ImageOps.solarize(pil, m),
            'AutoContrast': lambda: ImageOps.autocontrast(pil), 'Equalize': lambda: ImageOps.equalize(pil),
            'Invert': lambda: ImageOps.invert(pil)}[op]()


@pytest.mark.parametrize('op', ['ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate', 'Color', 'Contrast', 'Sharpness',
                                'Brightness', 'Posterize', 'Solarize', 'AutoContrast', 'Equalize', 'Invert'])
def test_reference_ops_match_pil_as_the_reference_calls_it(op):
    "Every magnitude bin of the v2 op equals PIL's (of either random sign) up to rounding: < 2% of values off by more than 1."
    from torchvision.transforms.v2.functional import pil_to_tensor, to_pil_image
    from visionlab.augment import apply_reference_op, reference_magnitude
    torch.manual_seed(0)
    img = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
    for index in range(10):
        ours = apply_reference_op(img, op, index).int()
        refs = [pil_to_tensor(_pil_reference(to_pil_image(img), op, reference_magnitude(op, index), s)).int() for s in (1, -1)]
        off = min(((ours - r).abs() > 1).float().mean().item() for r in refs)
        assert off < 0.02, (op, index, off)


def test_cifar_autoaugment_is_the_reference_table():
    from visionlab.augment import AUTOAUGMENT_CIFAR10, SubPolicyAugment
    aug = build_policy('autoaugment', CIFAR).transforms[3]
    assert isinstance(aug, SubPolicyAugment) and aug.policies == list(AUTOAUGMENT_CIFAR10)
    assert AUTOAUGMENT_CIFAR10[16] == ((0.2, 'Equalize', 8), (0.8, 'Equalize', 4))     # torchvision: 0.6 for the second step
    torch.manual_seed(0)
    draws = [aug.draw() for _ in range(25_000)]
    assert chi_square_pvalue(Counter(tuple((op, i) for op, i, _ in d) for d in draws), 24) > 1e-3   # 25 sub-policies, 2 alike


# --- CIFAR pickles ----------------------------------------------------------------------------
@pytest.mark.parametrize('kind,cls,cutout,n_classes', [('cifar10', CIFAR10DataModule, 16, 10), ('cifar100', CIFAR100DataModule, 8, 100)])
def test_cifar_pickles_load_through_torchvision(tmp_path, kind, cls, cutout, n_classes):
    write_cifar(tmp_path/kind, kind, n_train=40, n_test=8)
    cfg = compose([f'data={kind}', f'data.data_root_dir={tmp_path}', 'data.train_transforms=baseline_cutout',
                   'data.cutout_size=null', 'data.batch_size=8'])
    dm = datamodule_from_config(cfg)
    assert isinstance(dm, cls)
    dm.setup()
    assert (len(dm.train_dataset), len(dm.val_dataset), len(dm.test_dataset)) == (36, 4, 8)
    assert dm.batch_train.cutout == cutout and len(dm.classes) == n_classes
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (8, 3, 32, 32) and x.dtype == torch.float32 and y.dtype == torch.long


@pytest.mark.parametrize('kind,cutout', [('cifar10', 16), ('cifar100', 8)])
def test_cifar_shipped_configs_are_the_references(tmp_path, kind, cutout):
    "Normalisation (0.4914, 0.4822, 0.4465) / (0.2023, 0.1994, 0.2010) on both paths, the reference's RandAugment, and cutout 16 (CIFAR-10) or 8 (CIFAR-100) as the code behind the reference's table had it."
    write_cifar(tmp_path/kind, kind, n_train=20, n_test=4)
    cfg = compose([f'data={kind}', f'data.data_root_dir={tmp_path}', 'data.batch_size=4'])
    assert (cfg.data.cutout_size, cfg.data.train_transforms, cfg.data.validation) == (cutout, 'reference_randaugment', 'holdout')
    dm = datamodule_from_config(cfg); dm.setup()
    mean, std = torch.tensor([0.4914, 0.4822, 0.4465]), torch.tensor([0.2023, 0.1994, 0.2010])
    assert dm.train_transforms.transforms[-1].size == cutout
    img = torch.full((3, 32, 32), 100, dtype=torch.uint8)
    expected = ((100 / 255 - mean) / std).view(3, 1, 1).expand(3, 32, 32)
    torch.testing.assert_close(build_policy('test', dm.image_stats())(img), expected)
    torch.testing.assert_close(dm.augment_batch((img[None], None), train=False)[0][0], expected)


def test_cifar_missing_without_network_is_one_clear_error(tmp_path):
    dm = datamodule_from_config(compose(['data=cifar100', f'data.data_root_dir={tmp_path}']))
    with pytest.raises(ConfigError) as e: dm.setup()
    msg = str(e.value)
    assert '\n' not in msg and 'cifar-100-python/' in msg and 'train, test, meta' in msg and str(tmp_path/'cifar100') in msg


def test_cifar_trains_on_device_batches(tmp_path):
    "A whole run on the tiny CIFAR-10: uint8 batches, augmented in on_after_batch_transfer."
    from visionlab.train import train
    write_cifar(tmp_path/'data'/'cifar10', 'cifar10', n_train=32, n_test=8)
    res = train(['data=cifar10', f'data.data_root_dir={tmp_path/"data"}', 'data.batch_size=8', 'data.train_transforms=baseline_cutout',
                 'trainer.max_epochs=1', 'trainer.limit_train_batches=2', f'exp_dir={tmp_path/"exp"}',
                 'trainer.enable_progress_bar=false', 'model.lr=0.01'])
    assert 0 <= res['test_acc'] <= 1
    names = [f'class{i}' for i in range(10)]                # the names in the archive's meta file (the fixture's)
    assert json.loads((res.run_dir/'classes.json').read_text()) == {'classes': names, 'channels': 3, 'image_size': 32}
    from visionlab.predict import predict_run
    rows = list(csv.DictReader(open(predict_run(res.run_dir).csv)))
    assert {r['predicted_class'] for r in rows} <= set(names) and rows[0]['target_class'] == names[int(rows[0]['target'])]


def test_on_after_batch_transfer_augments_train_and_normalises_eval():
    seen = {}
    class Probe(L.LightningModule):
        def __init__(self):
            super().__init__(); self.lin = torch.nn.Linear(1, 1)
        def training_step(self, batch, i):
            seen['train'] = batch[0]; return self.lin(batch[0].mean().view(1, 1)).sum()
        def validation_step(self, batch, i): seen['val'] = batch[0]
        def configure_optimizers(self): return torch.optim.SGD(self.parameters(), lr=0.1)
    dm = SyntheticDataModule(num_samples=40, batch_size=8, train_transforms='baseline_cutout', test_transforms='test', cutout_size=8)
    L.Trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=1, logger=False, enable_checkpointing=False,
              enable_progress_bar=False, enable_model_summary=False, accelerator='cpu').fit(Probe(), datamodule=dm)
    assert seen['train'].dtype == seen['val'].dtype == torch.float32
    zeros = lambda x: (x == 0).all(1).flatten(1).sum(1)          # pixels zero in every channel: cutout
    assert (zeros(seen['train']) >= 16).all() and (zeros(seen['val']) == 0).all()


def test_cifar_missing_or_corrupt_batch_names_the_file(tmp_path):
    from torchvision.datasets import CIFAR10
    folder = write_cifar(tmp_path, 'cifar10', n_train=10, n_test=2)
    (folder/'data_batch_4').unlink()
    with pytest.raises(ConfigError, match=f'{folder} is not a readable CIFAR10 folder: missing data_batch_4$'):
        CIFAR10DataModule(name='cifar10', data_root_dir=tmp_path).setup()
    (folder/'data_batch_4').write_bytes(b'')
    with pytest.raises(ConfigError, match='not a readable CIFAR10 folder: EOFError'): read_cifar(folder, CIFAR10, train=True)


# --- unknown options --------------------------------------------------------------------------
@pytest.mark.parametrize('cls,kwargs,meant', [(BaseDataModule, {'batch_sise': 8}, 'batch_size'),
                                              (DigitsDataModule, {'val_splt': 0.2}, 'val_split'),
                                              (SyntheticDataModule, {'num_sample': 10}, 'num_samples'),
                                              (CSVRegressionDataModule, {'target_colum': 'y'}, 'target_column'),
                                              (CIFAR10DataModule, {'dowload': False}, 'download')])
def test_misspelled_option_is_refused_with_the_close_match(cls, kwargs, meant):
    bad = next(iter(kwargs))
    with pytest.raises(ConfigError) as e: cls(**kwargs)
    msg = str(e.value)
    assert msg.startswith(f"unknown DataModule option {bad!r} for {cls.__name__}: did you mean {meant!r}") and '\n' not in msg


def test_every_data_key_of_the_schema_reaches_every_datamodule():
    "datamodule_from_config passes every data.* key: each registered DataModule must accept them all."
    from visionlab.core import DATAMODULES
    from omegaconf import OmegaConf
    for name in DATAMODULES.names():
        cfg = compose([f'data.name={name}'], validate_choices=False)   # the model's keys are the digits', which need not fit
        dm = datamodule_from_config(cfg)
        assert dm.batch_size == cfg.data.batch_size and dm.val_split == cfg.data.val_split and dm.name == name
    cfg = OmegaConf.create(OmegaConf.to_container(compose(['data=cifar10']), resolve=True))
    cfg.data.batch_sise = 8
    with pytest.raises(ConfigError, match="unknown DataModule option 'batch_sise' for CIFAR10DataModule: did you mean 'batch_size'"):
        datamodule_from_config(cfg)


# --- image folders and CSV --------------------------------------------------------------------
def test_image_folder_tree_of_pngs(tmp_path):
    write_image_folder(tmp_path/'flowers', classes=('daisy', 'rose', 'tulip'), per_class=5, splits=('train', 'val'))
    dm = datamodule_from_config(compose(['data=image_folder', f'data.data_root_dir={tmp_path/"flowers"}', 'data.num_classes=3',
                                         'data.image_size=24', 'data.batch_size=5', 'data.num_workers=0']))
    dm.setup()
    assert dm.classes == ['daisy', 'rose', 'tulip'] and len(dm.train_dataset) == len(dm.val_dataset) == 15
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (5, 3, 24, 24) and x.dtype == torch.float32
    assert next(iter(dm.test_dataloader()))[0].shape == (5, 3, 24, 24)


def test_corrupt_image_names_the_file(tmp_path):
    write_image_folder(tmp_path, classes=('a', 'b'), per_class=1)
    bad = tmp_path/'train'/'a'/'bad.jpg'
    bad.write_bytes(b'\xff\xd8 truncated')
    dm = ImageFolderDataModule(name='x', data_root_dir=tmp_path, val_split=0, num_workers=0, image_size=8)
    with pytest.raises(ConfigError, match=f'cannot read image {bad}'): dm.setup()    # found before any training
    with pytest.raises(ConfigError, match=f'cannot read image {bad}'): ImageFileDataset([bad], [0])[0]   # and when read


def test_csv_regression_and_missing_column(tmp_path):
    write_image_folder(tmp_path, classes=('img',), per_class=6)
    (tmp_path/'train.csv').write_text('image,target\n' + ''.join(f'train/img/{i}.png,{i * 0.5}\n' for i in range(6)))
    dm = datamodule_from_config(compose(['data=csv_regression', f'data.data_root_dir={tmp_path}', 'data.image_size=16',
                                         'data.batch_size=3', 'data.num_workers=0', 'data.val_split=0.3']))
    dm.setup()
    assert (len(dm.train_dataset), len(dm.val_dataset)) == (4, 2) and dm.test_dataset is None
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (3, 3, 16, 16) and y.dtype == torch.float32
    (tmp_path/'train.csv').write_text('file,target\ntrain/img/0.png,1\n')
    with pytest.raises(ConfigError, match=r"train.csv: no column 'image' \(columns: file, target\)"):
        CSVRegressionDataModule(name='csv_regression', data_root_dir=tmp_path).setup()


def test_missing_folder_dataset(tmp_path):
    with pytest.raises(ConfigError, match='no dataset at'): ImageFolderDataModule(name='imagenet', data_root_dir=tmp_path).setup()
    with pytest.raises(ConfigError, match='no train.csv'): CSVRegressionDataModule(name='posters', data_root_dir=tmp_path).setup()


# --- splits, folds, loaders ---------------------------------------------------------------------
@pytest.mark.parametrize('targets', [np.repeat(np.arange(4), 12), np.linspace(0, 1, 37)])
@pytest.mark.parametrize('k', [2, 5])
def test_folds_disjoint_and_cover(targets, k):
    folds = fold_indices(targets, k, seed=3)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(targets)))
    assert sum(len(f) for f in folds) == len(targets)


def test_cv_fold_from_config_keeps_test_set():
    sizes = set()
    for fold in range(4):
        dm = datamodule_from_config(compose(['data.cv.k=4', f'data.cv.fold={fold}'])); dm.setup()
        train, val = dm.split_indices
        assert not set(train) & set(val)
        sizes.add(len(dm.test_dataset))
    assert sizes == {360}


def test_validation_on_test_set_trains_on_the_whole_training_set(tmp_path):
    "data.validation=test_set: len(train) is the full training set and the test set validates; with CV it is refused."
    dm = datamodule_from_config(compose(['data.validation=test_set'])); dm.setup()
    assert len(dm.train_dataset) == 1797 - 360 and dm.val_dataset is dm.test_dataset and len(dm.test_dataset) == 360
    holdout = datamodule_from_config(compose([])); holdout.setup()
    assert len(holdout.train_dataset) + len(holdout.val_dataset) == len(dm.train_dataset)
    write_cifar(tmp_path/'cifar10', 'cifar10', n_train=40, n_test=8)
    dm = datamodule_from_config(compose(['data=cifar10', f'data.data_root_dir={tmp_path}', 'data.validation=test_set'])); dm.setup()
    assert (len(dm.train_dataset), len(dm.val_dataset)) == (40, 8) and dm.val_dataset is dm.test_dataset
    write_image_folder(tmp_path/'pets', per_class=4, splits=('train', 'test'))
    dm = ImageFolderDataModule(name='pets', data_root_dir=tmp_path, validation='test_set', image_size=8); dm.setup()
    assert len(dm.train_dataset) == 8 and dm.val_dataset is dm.test_dataset
    with pytest.raises(ConfigError, match=r'^data.validation=test_set cannot be combined with data.cv.k=3: .*use data.validation=holdout$'):
        datamodule_from_config(compose(['data.validation=test_set', 'data.cv.k=3']))
    with pytest.raises(ConfigError, match="data.validation='test_sets'"):
        compose(['data.validation=test_sets'])


def test_random_batches_sample_with_replacement():
    dm = SyntheticDataModule(num_samples=300, val_split=0, batch_size=300, random_batches=True)
    dm.setup(); dm.train_dataset.targets = torch.arange(300)
    torch.manual_seed(1)
    assert next(iter(dm.train_dataloader()))[1].unique().numel() < 250
    dm.random_batches = False
    assert next(iter(dm.train_dataloader()))[1].unique().numel() == 300


def test_loader_settings_on_this_platform():
    dm = DigitsDataModule(batch_size=16); dm.setup()
    loader = dm.train_dataloader()
    assert loader.num_workers == 0 and not loader.persistent_workers      # in memory: no workers
    assert loader.pin_memory == torch.cuda.is_available()


# --- the command line -------------------------------------------------------------------------
def test_cli_cross_validation(run_cli, tmp_path):
    r = run_cli('data.cv.k=2', 'trainer.max_epochs=1', 'trainer.limit_train_batches=0.1', 'trainer.limit_val_batches=0.1',
                'trainer.limit_test_batches=0.1', 'name=cv', 'data.batch_size=32')
    assert r.returncode == 0, r.stderr
    assert 'fold 0:' in r.stdout and 'fold 1:' in r.stdout and 'mean' in r.stdout and 'std' in r.stdout
    summary = json.loads((tmp_path/'exp'/'cv-cv.json').read_text())
    assert [f['fold'] for f in summary['folds']] == [0, 1] and 'test_acc' in summary['mean']
    assert (tmp_path/'exp'/'cv-fold0').is_dir() and (tmp_path/'exp'/'cv-fold1').is_dir()


def test_cli_missing_cifar_exit_2(run_cli, tmp_path):
    r = run_cli('data=cifar10', f'data.data_root_dir={tmp_path/"none"}', 'trainer.max_epochs=1')
    last = r.stderr.strip().splitlines()[-1]
    assert r.returncode == 2 and last.startswith('visionlab-train: error:') and 'cifar-10-batches-py/' in last
