"""The panel appears without torch: choosing and checking a configuration reads the shipped catalogue
(`visionlab/configs/catalogue.json`), and torch, torchvision, torchmetrics and Lightning wait for Train.
Each check runs in a fresh interpreter, since the test process itself may have imported them."""
import json, subprocess, sys, textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ('torch', 'torchvision', 'torchmetrics', 'lightning')

def fresh(code: str, cwd=ROOT) -> dict:
    "Run `code` in a fresh interpreter; it prints one JSON object as its last line, which is returned."
    r = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True, text=True, cwd=cwd, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])

def test_panel_shows_without_torch():
    out = fresh(f"""
        import json, sys, time
        t0 = time.perf_counter()
        from IPython.core.interactiveshell import InteractiveShell
        from IPython.display import display
        InteractiveShell.instance()            # display() calls _ipython_display_, as in a notebook
        from visionlab.panel import ConfigPanel
        t1 = time.perf_counter()
        p = ConfigPanel()
        p.widget()
        heavy = [m for m in {HEAVY!r} if m in sys.modules]     # before display starts the warm-up thread
        display(p)
        t2 = time.perf_counter()
        import threading
        for t in threading.enumerate():
            if t.name == 'visionlab-warm-up': t.join(300)
        print(json.dumps(dict(heavy=heavy, warmed=[m for m in {HEAVY!r} if m in sys.modules], import_s=t1 - t0, shown_s=t2 - t0,
                              arch=p.value('model.arch'), archs=list(p.fields['model.arch'].widget.options),
                              shortcut=p.fields['model.shortcut'].widget.label, epochs=p.value('trainer.max_epochs'))))
        """)
    print(f"import {out['import_s']:.2f} s, import to shown {out['shown_s']:.2f} s")
    assert out['heavy'] == [], f"the panel imported {out['heavy']} before Train"
    assert out['warmed'] == list(HEAVY), f"after display the warm-up thread imported only {out['warmed']}"
    assert out['arch'] in out['archs'] and out['shortcut'] == 'auto'

def test_compose_and_refusals_without_torch():
    out = fresh(f"""
        import json, sys
        from visionlab.config import compose
        from visionlab.core import ConfigError
        cfg = compose(['model=wide_resnet', 'model.depth=16', 'model.widen_factor=4', 'model.optimizer=AdamW',
                       'data.train_transforms=autoaugment', 'checkpoint.monitor=val_f1', 'trainer.strategy=ddp'])
        refused = []
        for bad in (['model.arch=resnet19'], ['model=vgg', 'model.shakedrop=true'], ['model.metrics=[mse]'],
                    ['data.name=digits', 'model.input_channels=3'], ['checkpoint.monitor=val_auroc'], ['model.optimizer=sgdd']):
            try: compose(bad)
            except ConfigError as e: refused.append(str(e))
        print(json.dumps(dict(heavy=[m for m in {HEAVY!r} if m in sys.modules], arch=cfg.model.arch, refused=refused)))
        """)
    assert out['heavy'] == [], out['heavy']
    assert out['arch'] == 'wrn28_10' and len(out['refused']) == 6, out
    assert "did you mean 'resnet18'" in out['refused'][0] and 'model.shakedrop=True is not supported by vgg' in out['refused'][1]
    assert "checkpoint.monitor='val_auroc'" in out['refused'][4] and 'sgd' in out['refused'][5].lower()

def test_your_own_components_through_imports(tmp_path):
    "A family, a metric and a datamodule registered by a module named in `imports=`: not in the catalogue, still choices."
    (tmp_path/'my_parts.py').write_text(textwrap.dedent("""
        from torch import nn
        from visionlab.core import METRICS, DATAMODULES
        from visionlab.models.core import register_model
        @register_model('probe_family', small_image_stem=True)
        def probe(num_classes=10, input_channels=3, width=4):
            return nn.Sequential(nn.Flatten(), nn.LazyLinear(num_classes))
        METRICS.add('always_one', lambda num_classes: {'one': None}, tasks=('classification',))
        class Tiny: channels, image_dims, task = 1, 2, 'classification'
        DATAMODULES.add('tiny_data', Tiny)
        """))
    out = fresh("""
        import json
        from visionlab.config import compose
        from visionlab.panel import ConfigPanel
        from visionlab.core import ConfigError
        ov = ['imports=[my_parts]', 'model=probe_family', 'model.metrics=[acc,always_one]', 'checkpoint.monitor=val_one',
              'data.name=tiny_data', 'model.input_channels=1']
        cfg = compose(ov)
        try: compose(ov[:-1] + ['model.input_channels=3']); fit = ''
        except ConfigError as e: fit = str(e)
        p = ConfigPanel(ov[:4])   # the panel picks data sets by their YAML group
        print(json.dumps(dict(arch=cfg.model.arch, fit=fit, panel_arch=p.value('model.arch'), families=list(p.fields['model.family'].widget.options))))
        """, cwd=tmp_path)
    assert out['arch'] == 'probe' and out['panel_arch'] == 'probe' and 'probe_family' in out['families']
    assert 'model.input_channels=3 does not fit data.name=tiny_data' in out['fit']

def test_catalogue_is_current():
    r = subprocess.run([sys.executable, '-m', 'visionlab.catalogue', '--check'], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, f'visionlab/configs/catalogue.json differs from the registries; run python -m visionlab.catalogue:\n{r.stdout}{r.stderr}'

def test_panel_module_stays_small():
    lines = len((ROOT/'visionlab'/'panel.py').read_text().splitlines())
    assert lines < 400, f'visionlab/panel.py has {lines} lines: move helpers to nbs/49_fields.ipynb'

def test_catalogue_ships_as_package_data():
    assert 'configs/*.json' in (ROOT/'settings.ini').read_text() and '*.json' in (ROOT/'MANIFEST.in').read_text()
    assert json.loads((ROOT/'visionlab'/'configs'/'catalogue.json').read_text())['models']['resnet18']['family'] == 'resnet'
