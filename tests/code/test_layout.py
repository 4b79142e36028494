# SPDX-License-Identifier: MIT
"""The code's layout rules, checked on the tree (run by scripts/test):
SQL is spoken only in core/store/, FUSE only in fs/ (and the command that mounts),
libcurl only in sync/, and comments cite doc/ rather than files a clone
does not have."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PRODUCT = ("core", "sync", "fs", "cli")


def sources(*dirs):
    for d in dirs:
        for dirpath, _, names in os.walk(os.path.join(ROOT, d)):
            for n in names:
                if n.endswith((".c", ".h")):
                    p = os.path.join(dirpath, n)
                    with open(p, encoding="utf-8", errors="replace") as f:
                        yield os.path.relpath(p, ROOT), f.read()


def offenders(pattern, dirs):
    rx = re.compile(pattern)
    return sorted(p for p, text in sources(*dirs) if rx.search(text))


def test_sql_only_in_core_store():
    inside = os.path.join("core", "store") + os.sep
    assert [p for p in offenders(r"\bsqlite3_|<sqlite3\.h>", ("core", "sync", "fs", "cli"))
            if not p.startswith(inside)] == []


def test_every_statement_is_registered():
    """Statements are defined with STORE_SQL / STORE_SQL_TABLE (store.h), so
    that tests/unit/test_sql.c prepares every one; only the store itself
    prepares statements directly (store.c: the statement cache; schema.c:
    the schema's probes, run at every open)."""
    bare = offenders(r"(?m)^\s*static const char (\*const )?sql_\w+\s*\[[^]]*\]\s*=\s*\"",
                     ("core",))
    assert bare == []
    tables = {}
    for p, text in sources("core"):
        for name in re.findall(r"(?m)^static const char \*const (sql_\w+)\[", text):
            tables.setdefault(p, []).append(name)
    unregistered = [(p, n) for p, names in tables.items() for n in names
                    if f"STORE_SQL_TABLE({n})" not in open(os.path.join(ROOT, p)).read()]
    assert unregistered == []
    prepare = offenders(r"\bsqlite3_prepare", ("core", "sync", "fs", "cli"))
    assert prepare == [os.path.join("core", "store", f) for f in ("schema.c", "store.c")]


def test_fuse_only_in_the_adapter():
    assert offenders(r"<fuse\.h>|<fuse_lowlevel\.h>|\bfuse_\w+\(",
                     ("core", "sync")) == []


def test_curl_only_in_sync():
    assert offenders(r"<curl/curl\.h>|\bcurl_\w+\(", ("core", "fs", "cli")) == []


def test_comments_cite_the_repository():
    assert offenders(r"shared/spec|DESIGN\.md|/work/", PRODUCT + ("tests",)) == []
    cited = set()
    for _, text in sources(*PRODUCT):
        cited.update(re.findall(r"doc/([\w.-]+\.md)", text))
    missing = [c for c in cited if not os.path.exists(os.path.join(ROOT, "doc", c))]
    assert missing == []
