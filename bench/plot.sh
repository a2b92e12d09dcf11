#!/bin/sh
# plot.sh DIR - draws the benchmark plots (PNG) in DIR from the data files
# snapconf-bench and snapconf-bench-live wrote there, with gnuplot
# (Debian: gnuplot-nox, in packaging/debian-build-deps.txt).  Fails, saying
# why, when gnuplot or a data file is missing: results without their plots
# are not what `make bench` promises.
set -eu
dir=${1:?usage: plot.sh DIR}
here=$(dirname "$0")

if ! command -v gnuplot >/dev/null 2>&1; then
    echo "plot.sh: gnuplot not found: install the Debian package gnuplot-nox" \
         "(make deps does; see packaging/debian-build-deps.txt). The results in $dir" \
         "are complete; only the plots are missing." >&2
    exit 1
fi
for f in matrix-reads.dat matrix-latency.dat load.dat reload.dat; do
    if [ ! -s "$dir/$f" ]; then
        echo "plot.sh: $dir/$f is missing: run snapconf-bench --full and snapconf-bench-live first" >&2
        exit 1
    fi
done

# The machine line each plot's title carries, from the live results' header.
cpu=$(sed -n 's/^# cpu: //p' "$dir/results-live.csv" 2>/dev/null | head -n 1)
cc=$(sed -n 's/^# compiler: //p' "$dir/results-live.csv" 2>/dev/null | head -n 1)
urcu=$(sed -n 's/^# liburcu: //p' "$dir/results-live.csv" 2>/dev/null | head -n 1)
date=$(sed -n 's/^# date: //p' "$dir/results-live.csv" 2>/dev/null | head -n 1)
echo "$cpu, $cc, liburcu $urcu, $date" > "$dir/machine.txt"

gnuplot -e "dir='$dir'" "$here/plots.gp"
for png in read-matrix read-latency load-cost reload-latency; do
    [ -s "$dir/$png.png" ] || { echo "plot.sh: gnuplot wrote no $dir/$png.png" >&2; exit 1; }
    echo "wrote $dir/$png.png"
done
