"The learning-rate finder as a user runs it: `visionlab-train ... --lr-find` in a subprocess."
import re, shlex
from conftest import beyond_allocator_note

def test_lr_find_prints_the_suggestion_and_the_command_and_writes_nothing(run_cli, tmp_path):
    p = run_cli('experiment=quickstart', 'model.lr=0.5', '--lr-find')
    assert p.returncode == 0, p.stderr
    assert beyond_allocator_note(p.stderr) == [], p.stderr
    said, command = p.stdout.strip().splitlines()
    lr = float(re.fullmatch(r'suggested learning rate: (\S+) \(range test of 100 steps from 1e-06 to \S+, SGD\)', said).group(1))
    assert 1e-3 < lr < 1, p.stdout
    words = shlex.split(command)
    assert words[:2] == ['visionlab-train', 'experiment=quickstart'] and words.count(f'model.lr={lr}') == 1, command
    assert 'model.lr=0.5' not in words and '--lr-find' not in words
    assert not (tmp_path/'exp').exists() and sorted(q.name for q in tmp_path.iterdir()) == []   # no run dir, no .lr_find checkpoint

def test_lr_find_refuses_a_sweep_and_a_bad_key_in_one_line(run_cli, tmp_path):
    for args, phrase in [(['-m', 'model.lr=0.1,0.2', '--lr-find'], '--lr-find runs one range test'),
                         (['model.lrr=0.1', '--lr-find'], "did you mean 'model.lr'")]:
        p = run_cli(*args)
        assert (p.returncode, p.stderr.count('\n'), p.stdout) == (2, 1, ''), p.stderr
        assert phrase in p.stderr and 'Traceback' not in p.stderr
    assert not (tmp_path/'exp').exists()
