#!/usr/bin/env bash
# Build the docs site into _docs/ (open _docs/index.html, or serve the folder): bash docs/build.sh
#   1. every notebook executed once, with nbdev_test's rules (docs/execute.py -> _proc/nbs/; VISIONLAB_SLOW=1 also
#      runs the #| slow cells)
#   2. the quickstart command run for real, its output captured for the front page (_proc/quickstart.txt)
#   3. a screenshot of the panel in JupyterLab (docs/panel_shot.py -> _proc/panel.png)
#   4. nbdev's processors on the executed notebooks, then Sphinx + myst-nb (docs/build.py -> _docs/)
set -euo pipefail
cd "$(dirname "$0")/.."
export WANDB_MODE=${WANDB_MODE:-disabled} PYTHONWARNINGS=${PYTHONWARNINGS:-ignore::DeprecationWarning}
start=$SECONDS
python docs/execute.py --n_workers 2 --timing ${VISIONLAB_SLOW:+--flags slow}
mkdir -p _proc && rm -rf _proc/quickstart
# the quickstart first and alone (about 20 s): the front page quotes its fit time, which a JupyterLab starting
# beside it would inflate; then the panel's screenshot
if ! ( cd _proc && visionlab-train experiment=quickstart exp_dir=quickstart trainer.enable_progress_bar=false ) \
     > _proc/quickstart.txt 2> _proc/quickstart.log; then
  tail -n 30 _proc/quickstart.log; echo "FAILED: the quickstart command (docs/build.sh)"; exit 1
fi
python docs/panel_shot.py _proc/panel.png
python docs/build.py --panel-shot _proc/panel.png --quickstart _proc/quickstart.txt
echo "docs: built in $((SECONDS - start)) s"
