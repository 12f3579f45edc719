"""Prepare `ansible-test sanity` to run offline from a proper collection tree.

1. Put the get-pip stand-in (tools/get_pip_standin.py) where ansible-test looks for its
   cached bootstrap script, unless a script is already cached there.
2. Copy the working tree (files git tracks or would track, minus what is not collection
   content) to DEST, which must end in ansible_collections/<namespace>/<name>.
3. Make DEST a git repository of its own holding those files. DEST lies under build/,
   which the project's .gitignore ignores; without a repository of its own, ansible-test
   asks the outer repository which files exist, gets none, and prints
   "WARNING: All targets skipped." with exit status 0: a sanity run that tests nothing.
"""

import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# Not collection content: the emulator, the benchmarks, these tools and CI glue.
NOT_COLLECTION = re.compile(r"^(local_aws|bench|tools|\.ci|extensions)/")


def pip_version():
    import ansible_test  # noqa: F401  (the venv's ansible-test)

    path = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
    with open(path, encoding="utf-8") as handle:
        match = re.search(r"pip='([0-9.]+)'", handle.read())
    if not match:
        sys.exit("prepare_sanity: cannot find ansible-test's pip version in %s" % path)
    return match.group(1)


def install_standin():
    cache = os.path.expanduser("~/.ansible/test/cache/get_pip_%s.py" % pip_version().replace(".", "_"))
    if os.path.exists(cache):
        print("prepare_sanity: using cached pip bootstrap script %s" % cache)
        return
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    shutil.copyfile(os.path.join(HERE, "get_pip_standin.py"), cache)
    print("prepare_sanity: installed offline pip bootstrap stand-in at %s" % cache)


def link_dependencies(dest):
    """Make amazon.aws and community.aws (from the pinned `ansible` package) visible next to
    the copy, as ansible-test expects dependencies in the same ansible_collections tree."""
    import ansible_collections.amazon.aws as amazon_aws  # the venv's copy

    site = os.path.dirname(os.path.dirname(os.path.abspath(list(amazon_aws.__path__)[0])))
    root = os.path.dirname(os.path.dirname(dest))
    for namespace in ("amazon", "community"):
        link = os.path.join(root, namespace)
        if os.path.islink(link):
            os.remove(link)
        elif os.path.exists(link):
            shutil.rmtree(link)
        os.symlink(os.path.join(site, namespace), link)
    print("prepare_sanity: linked amazon.* and community.* from %s" % site)


def copy_tree(dest):
    if not re.search(r"/ansible_collections/[a-z0-9_]+/[a-z0-9_]+/?$", dest):
        sys.exit("prepare_sanity: %s is not an ansible_collections/<ns>/<name> path" % dest)
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")
    if os.path.exists(dest):
        shutil.rmtree(dest)
    count = 0
    for rel in files:
        if not rel or NOT_COLLECTION.match(rel) or not os.path.isfile(os.path.join(ROOT, rel)):
            continue
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), target)
        count += 1
    print("prepare_sanity: copied %d files to %s" % (count, dest))
    if count == 0:
        sys.exit("prepare_sanity: no files copied; refusing to run a sanity test of nothing")
    subprocess.run(["git", "init", "--quiet", dest], check=True)
    subprocess.run(["git", "add", "--all"], cwd=dest, check=True)
    listed = subprocess.run(["git", "ls-files"], cwd=dest, check=True, capture_output=True).stdout.decode().splitlines()
    if len(listed) != count:
        sys.exit("prepare_sanity: the sanity tree's repository lists %d files, expected %d" % (len(listed), count))
    print("prepare_sanity: %s is a git repository of its own (%d files), so ansible-test sees them" % (dest, count))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: prepare_sanity.py DEST")
    install_standin()
    copy_tree(os.path.abspath(sys.argv[1]))
    link_dependencies(os.path.abspath(sys.argv[1]))
