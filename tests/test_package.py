"The installed package: importable without the notebook toolchain, configs shipped as package data."
import subprocess, sys
from pathlib import Path

def test_import_does_not_pull_in_nbdev():
    code = ("import sys, visionlab, visionlab.train, visionlab.cli; "
            "bad = [m for m in ('nbdev', 'execnb') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, '-c', code], check=True)

def test_configs_are_package_data():
    import visionlab
    configs = Path(visionlab.__file__).parent/'configs'
    for group in ('model', 'data', 'env', 'experiment'):
        assert list((configs/group).glob('*.yaml')), group
    assert (configs/'train.yaml').exists()
    assert 'configs/*/*.yaml' in (Path(__file__).parents[1]/'settings.ini').read_text()
