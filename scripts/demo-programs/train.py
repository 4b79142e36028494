#!/usr/bin/env python3
"""Stage 2 (Python): fits y = a*x + b to the ingested points by gradient
descent, logging the loss per step as step metrics and the result as a
model, with nothing but open() and write()."""
import json
import os
import sys

run = sys.argv[1]
points = [tuple(map(float, line.split(",")))
          for line in open(os.path.join(run, "inputs", "points.csv")).read().splitlines()[1:]]
with open(os.path.join(run, "properties", "learning_rate"), "w") as f:
    f.write("0.00005\n")
a = b = 0.0
with open(os.path.join(run, "metrics", "training.csv"), "w") as log:
    log.write("step,loss\n")
    for step in range(1, 51):
        ga = gb = loss = 0.0
        for x, y in points:
            err = a * x + b - y
            loss += err * err / len(points)
            ga += 2 * err * x / len(points)
            gb += 2 * err / len(points)
        a -= 0.00005 * ga
        b -= 0.00005 * gb
        log.write(f"{step},{loss:.4f}\n")
os.makedirs(os.path.join(run, "outputs", "models"), exist_ok=True)
with open(os.path.join(run, "outputs", "models", "linear.json"), "w") as f:
    json.dump({"a": a, "b": b}, f)
with open(os.path.join(run, "metrics", "fit.json"), "w") as f:
    json.dump({"final_loss": loss, "a": a, "b": b}, f)
with open(os.path.join(run, "state"), "w") as f:
    f.write("complete\n")
