cd /work/main
rm -rf /tmp/j1runs /tmp/j1fig; mkdir -p /tmp/j1runs/tiny /tmp/j1fig
cp -a runs/tiny/base /tmp/j1runs/tiny/base
cp figures/00_metrics.json figures/manifest.json /tmp/j1fig/ 2>/dev/null
date
O1LITE_JOBS=1 O1LITE_RUNS_DIR=/tmp/j1runs O1LITE_FIGURES_DIR=/tmp/j1fig timeout 900 .venv/bin/python -m o1lite reproduce --only 02 --force
date
