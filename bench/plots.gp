# plots.gp - the benchmark's PNG plots, from the data files the programs
# write beside their results.  Run by plot.sh:
#   gnuplot -e "dir='build/bench'" bench/plots.gp
# Data files: matrix-reads.dat (one block per writer period: strategy, M
# reads/s for 1, 2, 4 readers), matrix-latency.dat (strategy, p99.9 and p50
# ns with 2 readers, no writer / 10 ms / 1 ms), load.dat (input, load /
# libyaml, snapshot bytes per file byte), reload.dat (edit pattern, median,
# p99, max with the 50 ms debounce, median without).  Each plot's title
# names the machine (machine.txt, written by plot.sh).

if (!exists("dir")) dir = "build/bench"
machine = system("cat '".dir."/machine.txt' 2>/dev/null")

set terminal pngcairo size 1400,900 font "sans,10" noenhanced
set datafile missing "-"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key outside right top vertical
set xtics rotate by -35
set yrange [0:*]

# --- read-side matrix: reads per second ------------------------------------
set output dir."/read-matrix.png"
set multiplot layout 3,1 title "snapconf read-side matrix: M reads/s, total over R reader threads (higher is better)\n".machine
titles = "'no writer' 'writer every 10 ms' 'writer every 1 ms'"
do for [w=0:2] {
    set title word(titles, w + 1)
    set ylabel "M reads/s"
    plot dir."/matrix-reads.dat" index w using 2:xtic(1) title "R = 1", \
         '' index w using 3 title "R = 2", \
         '' index w using 4 title "R = 4 (oversubscribed)"
}
unset multiplot

# --- read latency tails ------------------------------------------------------
set output dir."/read-latency.png"
set title "read latency p99.9, 2 reader threads (ns, log scale; lower is better)\n".machine
set ylabel "ns"
set yrange [*:*]
set logscale y
plot dir."/matrix-latency.dat" using 2:xtic(1) title "no writer", \
     '' using 3 title "writer every 10 ms", \
     '' using 4 title "writer every 1 ms"
unset logscale y

# --- load cost ---------------------------------------------------------------
set output dir."/load-cost.png"
set title "load cost by input: snapconf_snap_load_buffer / libyaml's bare event loop, and snapshot bytes per file byte\n".machine
set ylabel "x"
set yrange [0:*]
set arrow 1 from graph 0, first 1.5 to graph 1, first 1.5 nohead dashtype 2 lc rgb "red"
set arrow 2 from graph 0, first 2 to graph 1, first 2 nohead dashtype 3 lc rgb "blue"
plot dir."/load.dat" using 2:xtic(1) title "load / libyaml time (target 1.5)", \
     '' using 3 title "snapshot / file size (target 2)"
unset arrow 1
unset arrow 2

# --- reload latency ----------------------------------------------------------
set output dir."/reload-latency.png"
set title "reload latency by edit pattern, 10 KB config: editor's last system call to a reader seeing the new generation (ms)\n".machine
set ylabel "ms"
set arrow 1 from graph 0, first 55 to graph 1, first 55 nohead dashtype 2 lc rgb "red"
plot dir."/reload.dat" using 2:xtic(1) title "median, 50 ms debounce (target 55)", \
     '' using 3 title "p99", \
     '' using 4 title "max", \
     '' using 5 title "median, no debounce"
unset arrow 1
