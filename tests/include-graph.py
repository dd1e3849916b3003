#!/usr/bin/python3
"""The house as the #include lines draw it: rooms, arrows, cycles.

Reads every .c and .h under the rooms that the Makefile names (ROOMS, and
USES_<room> for the rooms each one may include from), resolves each
#include "x.h" as the compiler does (the including file's folder first,
then the rooms), and fails when

  - a file includes a header from a room its own room may not use (the
    build fails on it too; this names the rule it breaks),
  - storage/ uses more of platform/ than its basics (STORAGE_BASICS),
  - a header is found nowhere (a generated one excepted),
  - the modules' includes form a cycle (a module is x.c with x.h; an
    arrow goes from a module to each module whose header it includes).

usage: tests/include-graph.py [--root DIR] [--dot]
  --dot  print the module graph as Graphviz dot instead of checking
"""
import os
import re
import sys

# Headers the build generates into its output folder.
GENERATED = {"kconfig.h", "buildinfo.h"}
# What storage/ may use of platform/: buffers, errors, memory, logging.
STORAGE_BASICS = {"buf.h", "error.h", "mem.h", "log.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def rules(root):
    """ROOMS and USES_<room> from the Makefile: the one place they live."""
    text = open(os.path.join(root, "Makefile")).read()
    rooms = re.search(r"^ROOMS\s*:=\s*(.*)$", text, re.M).group(1).split()
    uses = {}
    for room in rooms:
        m = re.search(r"^USES_%s\s*:=\s*(.*)$" % re.escape(room), text, re.M)
        if not m:
            sys.exit("include-graph: the Makefile gives no USES_%s" % room)
        uses[room] = m.group(1).split()
    return rooms, uses


def room_of(path, rooms):
    for room in rooms:
        if path.startswith(room + "/"):
            return room
    return None


def scan(root, rooms):
    files = []
    for room in rooms:
        d = os.path.join(root, room)
        for name in sorted(os.listdir(d)):
            if name.endswith((".c", ".h")) and os.path.isfile(os.path.join(d, name)):
                files.append(room + "/" + name)
    return files


def main():
    root = "."
    dot = False
    args = sys.argv[1:]
    while args:
        a = args.pop(0)
        if a == "--root" and args:
            root = args.pop(0)
        elif a == "--dot":
            dot = True
        else:
            sys.exit(__doc__)
    rooms, uses = rules(root)
    files = scan(root, rooms)
    present = set(files)
    problems = []
    arrows = {}  # module -> set of modules

    for f in files:
        room = room_of(f, rooms)
        here = os.path.dirname(f)
        mod = os.path.splitext(f)[0]
        arrows.setdefault(mod, set())
        text = open(os.path.join(root, f), errors="replace").read()
        for lineno, line in enumerate(text.splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            name = m.group(1)
            if name in GENERATED:
                continue
            # the compiler's order: the file's own folder, then the rooms
            found = here + "/" + name if here + "/" + name in present else None
            if not found:
                for r in uses[room]:
                    if r + "/" + name in present:
                        found = r + "/" + name
                        break
            if not found:
                other = [r for r in rooms if r + "/" + name in present]
                if other:
                    problems.append(
                        "%s:%d: includes %s/%s: %s may use only %s"
                        % (f, lineno, other[0], name, room, ", ".join(uses[room])))
                    found = other[0] + "/" + name
                else:
                    problems.append("%s:%d: includes \"%s\", which is in no room"
                                    % (f, lineno, name))
                    continue
            if room == "storage" and found.startswith("platform/") \
                    and name not in STORAGE_BASICS:
                problems.append(
                    "%s:%d: includes %s: storage may use only platform's basics (%s)"
                    % (f, lineno, found, ", ".join(sorted(STORAGE_BASICS))))
            target = os.path.splitext(found)[0]
            if target != mod:
                arrows[mod].add(target)

    if dot:
        print("digraph outpost {")
        for room in rooms:
            print('  subgraph "cluster_%s" { label="%s";' % (room, room))
            for m in sorted(arrows):
                if room_of(m, rooms) == room:
                    print('    "%s";' % m)
            print("  }")
        for m in sorted(arrows):
            for t in sorted(arrows[m]):
                print('  "%s" -> "%s";' % (m, t))
        print("}")
        return 0

    # cycles: depth-first, each one reported once by its smallest rotation
    seen_cycles = set()
    state = {}
    stack = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in sorted(arrows.get(m, ())):
            if state.get(t) == 1:
                cyc = stack[stack.index(t):]
                k = cyc.index(min(cyc))
                key = tuple(cyc[k:] + cyc[:k])
                if key not in seen_cycles:
                    seen_cycles.add(key)
                    problems.append("include cycle: " + " -> ".join(key + (key[0],)))
            elif not state.get(t):
                visit(t)
        stack.pop()
        state[m] = 2

    sys.setrecursionlimit(10000)
    for m in sorted(arrows):
        if not state.get(m):
            visit(m)

    for p in problems:
        print("include-graph: " + p)
    if problems:
        return 1
    narrows = sum(len(v) for v in arrows.values())
    print("include-graph: ok: %d files, %d modules in %d rooms, %d arrows, no cycle"
          % (len(files), len(arrows), len(rooms), narrows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
