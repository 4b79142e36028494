#!/bin/sh
# Stage 1 (shell): writes a small dataset straight into the execution.
# usage: ingest.sh EXECUTION_DIR
set -eu
out=$1/outputs
echo 0.25 > "$1/properties/noise"
{
	echo "x,y"
	i=1
	while [ $i -le 200 ]; do
		echo "$i,$((3 * i + i % 7))"
		i=$((i + 1))
	done
} > "$out/points.csv"
echo complete > "$1/state"
