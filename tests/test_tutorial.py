#!/usr/bin/env python3
"""Runs every command of docs/TUTORIAL.md and checks its output, so the tutorial cannot rot.

The rules (docs/TUTORIAL.md, "How to read the examples", says the same to the reader):
- Examples are ```console blocks. A line starting with `$ ` is a command (a line ending in `\\`
  continues on the next); the lines after it, up to the next command or the block's end, are its
  expected output: stdout and stderr together, each line exactly.
- A line that is `...` stands for any number of lines (none too); `[...]` inside a line stands
  for any text. Without `...` at the start or end, the output must start or end there.
- Output lines starting with `(vmiemu) ` are what was typed at the debugger prompt: they are
  also the command's standard input, in order (the shell echoes each line it reads from a pipe,
  so the transcript reads as an interactive session). Other commands get an empty stdin.
- A command must exit 0, unless it ends in a comment `# exit status N`.
- Each lesson (a `## Lesson N` heading) runs in its own empty directory, its commands in order,
  with `vmiemu` first on PATH, $K the test kernels' directory and $G the shared Linux guest.

Usage: test_tutorial.py [--linux | --no-linux] [--show] TUTORIAL VMIEMU KERNEL_DIR [GUEST_DIR]
  GUEST_DIR   the shared Linux guest; default $VMIEMU_GUESTS/vmilinux-2.6.32, else
              ../shared/guests/vmilinux-2.6.32 beside the source tree (as the C tests find it)
  --no-linux  only the lessons that do not use $G (the shared guest)
  --linux     only the lessons that do; exit 77 (skipped) when GUEST_DIR is absent
  --show      print each command's actual output instead of checking it (for writing lessons)
Exit status 0 when every command matched, 1 otherwise (each mismatch names lesson and line).
       test_tutorial.py --self-test
  checks the checker: a small tutorial of shell commands passes, and each way of breaking it
  (a wrong line, a wrong status, a missing elision, an extra line, a changed typed line) fails.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ELLIPSIS = "..."
INLINE = "[...]"
PROMPT = "(vmiemu) "
STATUS = re.compile(r"#\s*exit status (\d+)\s*$")


class Command:
    def __init__(self, lesson, line, text, expected):
        self.lesson, self.line, self.text, self.expected = lesson, line, text, expected
        m = STATUS.search(text)
        self.status = int(m.group(1)) if m else 0

    @property
    def stdin(self):
        return "".join(e[len(PROMPT):] + "\n" for e in self.expected if e.startswith(PROMPT))


def parse(path):
    """Lessons in order: (title, [Command]) for each `## Lesson` heading with console blocks."""
    lessons, title, cmds = [], None, None
    in_block, fence, pending = False, "", None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line, no = lines[i], i + 1
        i += 1
        if not in_block:
            if line.startswith("## "):
                title = line[3:].strip() if line.startswith("## Lesson") else None
                cmds = [] if title else None
                if title:
                    lessons.append((title, cmds))
            m = re.match(r"^(```+)console\s*$", line)
            if m:
                if cmds is None:
                    sys.exit(f"{path}:{no}: a console block outside a lesson")
                in_block, fence, pending = True, m.group(1), None
            continue
        if line.strip() == fence:
            in_block = False
            continue
        if line.startswith("$ "):
            text, start = line[2:], no
            while text.endswith("\\") and i < len(lines):
                text = text + "\n" + lines[i]
                i += 1
            pending = Command(title, start, text, [])
            cmds.append(pending)
        elif pending is None:
            sys.exit(f"{path}:{no}: output before the first command of the block")
        else:
            pending.expected.append(line)
    if in_block:
        sys.exit(f"{path}: a console block is not closed")
    return lessons


def line_matches(pattern, actual):
    if INLINE not in pattern:
        return pattern == actual
    parts = pattern.split(INLINE)
    return re.fullmatch(".*".join(re.escape(p) for p in parts), actual, re.S) is not None


def match(expected, actual, ei=0, ai=0):
    """True when the actual lines fit the expected ones with their elisions (backtracking)."""
    while ei < len(expected):
        if expected[ei] == ELLIPSIS:
            if ei + 1 == len(expected):
                return True
            return any(match(expected, actual, ei + 1, k) for k in range(ai, len(actual) + 1))
        if ai >= len(actual) or not line_matches(expected[ei], actual[ai]):
            return False
        ei, ai = ei + 1, ai + 1
    return ai == len(actual)


def first_mismatch(expected, actual):
    """The first expected line (not an elision) that cannot be found in order: for the report."""
    ai = 0
    for e in expected:
        if e == ELLIPSIS:
            continue
        while ai < len(actual) and not line_matches(e, actual[ai]):
            ai += 1
        if ai == len(actual):
            return e
        ai += 1
    return None


def run(cmd, env, cwd):
    # stdbuf: stdout line-buffered as on a terminal, so stdout and stderr interleave as a reader
    # sees them (vmiemu sets no buffering of its own).
    p = subprocess.run(["stdbuf", "-oL", "-eL", "bash", "-c", cmd.text], input=cmd.stdin, cwd=cwd, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                       timeout=600)
    out = p.stdout[:-1] if p.stdout.endswith("\n") else p.stdout
    return p.returncode, (out.split("\n") if out else [])


def main(argv):
    show = "--show" in argv
    which = "linux" if "--linux" in argv else "core" if "--no-linux" in argv else "all"
    args = [a for a in argv if not a.startswith("--")]
    if len(args) not in (3, 4):
        sys.exit(__doc__)
    if len(args) == 3:
        source = os.path.dirname(os.path.dirname(os.path.abspath(args[0])))
        guests = os.environ.get("VMIEMU_GUESTS") or os.path.join(source, "..", "shared", "guests")
        args.append(os.path.join(guests, "vmilinux-2.6.32"))
    tutorial, vmiemu, kernels, guest = (os.path.abspath(a) for a in args)
    lessons = parse(tutorial)
    if not lessons:
        sys.exit(f"{tutorial}: no lessons")
    uses_guest = lambda cmds: any("$G" in c.text for c in cmds)
    if which == "linux":
        lessons = [l for l in lessons if uses_guest(l[1])]
        if not os.path.isdir(guest):
            print(f"skipped: no shared guest at {guest}")
            return 77
    elif which == "core" or not os.path.isdir(guest):
        if which == "all":
            print(f"lessons that use the shared guest skipped: none at {guest}")
        lessons = [l for l in lessons if not uses_guest(l[1])]

    bindir = tempfile.mkdtemp(prefix="vmiemu-tutorial-bin.")
    os.symlink(vmiemu, os.path.join(bindir, "vmiemu"))
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""), K=kernels, G=guest,
               LC_ALL="C")
    # libstdbuf is preloaded before the sanitizer runtime: let ASan accept that order.
    env["ASAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), "verify_asan_link_order=0"]))
    failures = commands = 0
    try:
        for title, cmds in lessons:
            failed_before = failures
            work = tempfile.mkdtemp(prefix="vmiemu-tutorial.")
            try:
                for cmd in cmds:
                    commands += 1
                    status, actual = run(cmd, env, work)
                    where = f"{os.path.basename(tutorial)}:{cmd.line}: {title}"
                    if show:
                        print(f"== {where}\n$ {cmd.text}   [status {status}]")
                        print("\n".join(actual))
                        continue
                    problems = []
                    if status != cmd.status:
                        problems.append(f"exit status {status}, the text says {cmd.status}")
                    if not match(cmd.expected, actual):
                        missing = first_mismatch(cmd.expected, actual)
                        problems.append("output differs" + (f"; not found in order: {missing!r}" if missing
                                                            else " (lines at the start or end, or extra lines)"))
                    if problems:
                        failures += 1
                        print(f"FAIL {where}\n  $ {cmd.text}\n  " + "\n  ".join(problems))
                        print("  --- expected\n" + "\n".join("  " + e for e in cmd.expected))
                        print("  --- actual\n" + "\n".join("  " + a for a in actual))
            finally:
                shutil.rmtree(work, ignore_errors=True)
            if not show:
                print(f"{'ok  ' if failures == failed_before else 'FAIL'} {title}")
    finally:
        shutil.rmtree(bindir, ignore_errors=True)
    if show:
        return 0
    print(f"{commands} commands in {len(lessons)} lessons, {failures} failed")
    return 1 if failures else 0


SELF_TEST = """# t
## Lesson 1: echo
```console
$ printf 'a\\nb\\nc\\nd\\n'
a
...
d
$ echo "time 12.5 ms, calls 3"; exit 3          # exit status 3
time [...] ms, calls 3
$ while read l; do echo "(vmiemu) $l"; echo "got $l"; done
(vmiemu) one
got one
(vmiemu) two
got two
$ echo x \\
      y
x y
```
"""
BREAKAGES = [("a\n...\nd", "a\nd"), ("a\n...", "a\nb"), ("# exit status 3", ""),
             ("calls 3\n", "calls 4\n"), ("got two", "got three"), ("(vmiemu) two\ngot", "(vmiemu) too\ngot"),
             ("x y\n", "x y\nz\n")]


def self_test():
    """The checker must pass the sample and fail every broken copy of it."""
    work = tempfile.mkdtemp(prefix="vmiemu-tutorial-self.")
    try:
        doc = os.path.join(work, "TUTORIAL.md")
        ok = True
        for old, new in [(None, None)] + BREAKAGES:
            text = SELF_TEST if old is None else SELF_TEST.replace(old, new, 1)
            if old is not None and text == SELF_TEST:
                sys.exit(f"self-test: breakage {old!r} does not apply")
            with open(doc, "w", encoding="utf-8") as f:
                f.write(text)
            p = subprocess.run([sys.executable, __file__, doc, shutil.which("true"), work, work],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            want = 0 if old is None else 1
            if p.returncode != want:
                ok = False
                print(f"self-test: {'sample' if old is None else f'breaking {old!r} -> {new!r}'}: "
                      f"exit {p.returncode}, want {want}\n{p.stdout}")
        print("self-test: " + ("ok" if ok else "FAILED"))
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    sys.exit(main(sys.argv[1:]))
