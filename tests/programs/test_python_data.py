# SPDX-License-Identifier: MIT
"""numpy, h5py, PyTorch and scikit-learn writing into outputs/."""
import os

import pytest

from conftest import both, check_store, journal_lines, logged, md5, need_module, py, wait_for

NUMPY = r"""
import sys, numpy as np
d = sys.argv[1]
a = np.arange(1000, dtype=np.float64).reshape(100, 10)
np.save(f"{d}/a.npy", a)
np.savez(f"{d}/ab.npz", a=a, b=np.ones(7, dtype=np.int32))
np.savez_compressed(f"{d}/c.npz", c=np.linspace(0, 1, 500))
m = np.load(f"{d}/a.npy", mmap_mode="r")      # mmap of a logged file
assert isinstance(m, np.memmap) and (m == a).all()
with np.load(f"{d}/ab.npz") as z:
    assert (z["a"] == a).all() and z["b"].sum() == 7
print(float(m.sum()))
"""


def test_numpy_save_savez_load_mmap(mounted, execution, tmp_path):
    need_module("numpy")
    out = os.path.join(execution, "outputs")
    snap = both(tmp_path, out, lambda d: [py(NUMPY, d)])
    assert sorted(snap) == ["a.npy", "ab.npz", "c.npz"]
    check_store(mounted, snap)
    assert journal_lines(mounted) == []


MEMMAP = r"""
import sys, numpy as np
d = sys.argv[1]
w = np.lib.format.open_memmap(f"{d}/w.npy", mode="w+", dtype=np.int16,
                              shape=(4096,))  # written through a shared mmap
w[:] = np.arange(4096) % 97
w.flush()
del w
print(float(np.load(f"{d}/w.npy", mmap_mode="r").sum()))
"""


def test_numpy_open_memmap_bytes(mounted, execution, tmp_path):
    """Writing through a shared writable mmap works and the final bytes
    are logged."""
    need_module("numpy")
    out = os.path.join(execution, "outputs")
    snap = both(tmp_path, out, lambda d: [py(MEMMAP, d)])
    assert sorted(snap) == ["w.npy"]
    final = md5(snap["w.npy"])
    assert (final, "Dataset") in [(r[1], r[2]) for r in logged(mounted)]


def test_numpy_open_memmap_logs_only_the_final_version(mounted, execution, tmp_path):
    """open_memmap(mode='w+') closes the file after its 128-byte header (a
    close by its opener, so a version: earlier versions stay in the
    history), then extends it with zeros and closes its descriptor while
    its mmap still holds the file: that close is not the end of the write,
    the mapping's last release logs the final bytes.  So: the header-only
    version and the final one, never the all-zero one."""
    need_module("numpy")
    out = os.path.join(execution, "outputs")
    snap = both(tmp_path, out, lambda d: [py(MEMMAP, d)])
    final = snap["w.npy"]
    header = final[:10 + int.from_bytes(final[8:10], "little")]   # .npy 1.0
    wait_for(lambda: md5(snap["w.npy"]) in [x[1] for x in logged(mounted)])
    check_store(mounted, snap, history=[("w.npy", header)])



H5PY = r"""
import sys, numpy as np, h5py
d = sys.argv[1]
with h5py.File(f"{d}/data.h5", "w") as f:
    f.create_dataset("x", data=np.arange(10000).reshape(100, 100),
                     chunks=(10, 10), compression="gzip")
    g = f.create_group("meta")
    g.attrs["n"] = 3
    g.create_dataset("y", data=np.linspace(0, 1, 33))
with h5py.File(f"{d}/data.h5", "r") as f:
    assert f["x"][5, 7] == 507 and f["meta"].attrs["n"] == 3
    print(f["meta/y"][:].sum())
with h5py.File(f"{d}/data.h5", "a") as f:       # append: a second version
    f["meta"].create_dataset("z", data=np.zeros(5))
"""


def test_h5py_write_read_append(mounted, execution, tmp_path):
    need_module("h5py")
    out = os.path.join(execution, "outputs")
    snap = both(tmp_path, out, lambda d: [py(H5PY, d)])
    assert sorted(snap) == ["data.h5"]
    # the first close and the append's close are two real versions
    disk = tmp_path / "first"
    os.makedirs(disk)
    first = py(H5PY.split("with h5py.File(f\"{d}/data.h5\", \"r\")")[0], disk)
    assert first.returncode == 0, first.stderr
    history = [("data.h5", (disk / "data.h5").read_bytes())]
    check_store(mounted, snap, history=history)
    assert journal_lines(mounted) == []


TORCH = r"""
import sys, torch
d = sys.argv[1]
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(),
                            torch.nn.Linear(16, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(64, 8), torch.randn(64, 1)
for epoch in range(3):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    torch.save({"epoch": epoch, "model": model.state_dict(),
                "opt": opt.state_dict()}, f"{d}/models/ckpt.pt")
    ck = torch.load(f"{d}/models/ckpt.pt")
    assert ck["epoch"] == epoch
    if len(sys.argv) > 2 and int(sys.argv[2]) == epoch:
        break
ck = torch.load(f"{d}/models/ckpt.pt")
model.load_state_dict(ck["model"])
torch.save(model, f"{d}/models/final.pt")        # a whole module, pickled
print(ck["epoch"])
"""


def test_torch_checkpoint_each_epoch(mounted, execution, tmp_path):
    need_module("torch")
    out = os.path.join(execution, "outputs")

    def scenario(d):
        os.makedirs(os.path.join(d, "models"))
        return [py(TORCH, d)]
    snap = both(tmp_path, out, scenario)
    assert sorted(snap) == ["models/", "models/ckpt.pt", "models/final.pt"]
    # each epoch's close of ckpt.pt is a version a user would name (the
    # checkpoint of epoch 0, 1, 2): three Model artifacts, no partial one
    history = []
    for epoch in (0, 1):
        d = tmp_path / f"epoch{epoch}"
        os.makedirs(d / "models")
        r = py(TORCH, d, epoch)
        assert r.returncode == 0, r.stderr
        history.append(("models/ckpt.pt", (d / "models" / "ckpt.pt").read_bytes()))
    assert len({md5(b) for _, b in history} | {md5(snap["models/ckpt.pt"])}) == 3
    rows = check_store(mounted, {k: v for k, v in snap.items() if v is not None},
                       history=history)
    assert sorted(r[0] for r in rows) == ["models/ckpt.pt"] * 3 + ["models/final.pt"]
    assert {r[2] for r in rows} == {"Model"}
    assert journal_lines(mounted) == []


SKLEARN = r"""
import sys, pickle
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
d = sys.argv[1]
X, y = load_digits(return_X_y=True)           # bundled: no download
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
clf = LogisticRegression(max_iter=2000, random_state=0).fit(Xtr, ytr)
with open(f"{d}/models/digits.pkl", "wb") as f:
    pickle.dump(clf, f)
with open(f"{d}/models/digits.pkl", "rb") as f:
    again = pickle.load(f)
acc = again.score(Xte, yte)
assert acc > 0.9, acc
with open(f"{d}/accuracy.txt", "w") as f:
    f.write(f"{acc:.6f}\n")
"""


def test_sklearn_digits_model_pickled(mounted, execution, tmp_path):
    need_module("sklearn")
    out = os.path.join(execution, "outputs")

    def scenario(d):
        os.makedirs(os.path.join(d, "models"))
        return [py(SKLEARN, d)]
    snap = both(tmp_path, out, scenario)
    assert sorted(snap) == ["accuracy.txt", "models/", "models/digits.pkl"]
    rows = check_store(mounted, {k: v for k, v in snap.items() if v is not None})
    assert sorted((r[0], r[2]) for r in rows) == [
        ("accuracy.txt", "Dataset"), ("models/digits.pkl", "Model")]
    # the model read back through the mount predicts
    r = py("import pickle, sys; from sklearn.datasets import load_digits;"
           "X, y = load_digits(return_X_y=True);"
           "m = pickle.load(open(sys.argv[1], 'rb')); print(m.predict(X[:5]))",
           os.path.join(out, "models", "digits.pkl"))
    assert r.returncode == 0, r.stderr
    assert journal_lines(mounted) == []
