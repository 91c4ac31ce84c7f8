#!/usr/bin/env python3
"""Checks of include/keyprov.h that a C compiler cannot make by itself.

  header_tool.py docs HEADER              every declaration carries a doc comment
  header_tool.py version HEADER CARGO     version macros equal the version in Cargo.toml
  header_tool.py symbols HEADER LIBRARY   header prototypes and library exports are the same set
  header_tool.py layout HEADER OUT.c      writes a C program comparing struct layouts with Rust

Exit status 1 with one line per problem on failure.
"""

import re
import subprocess
import sys

# Lines of the header's frame that are not declarations of the API.
FRAME = re.compile(
    r'^(#ifndef KEYPROV_H|#define KEYPROV_H|#include |#ifdef __cplusplus|#endif|'
    r'extern "C" \{|\}  // extern "C")'
)


class Item:
    """One declaration: a macro, a typedef, a struct field or a function."""

    def __init__(self, line, kind, name, text, documented):
        self.line, self.kind, self.name = line, kind, name
        self.text, self.documented = text, documented


def declarations(header):
    """Every declaration of the header, with whether a doc comment stands right above it."""
    items, doc, comment, pending, struct = [], False, None, None, None
    for number, raw in enumerate(header.splitlines(), 1):
        line = raw.strip()
        if comment is not None:
            if line.endswith('*/'):
                doc, comment = comment, None
            continue
        if line.startswith('/*'):
            opened_doc = line.startswith('/**')
            if line.endswith('*/') and len(line) > 3:
                doc = opened_doc
            else:
                comment = opened_doc
            continue
        if not line:
            doc = False
            continue
        if pending is not None:
            pending[1] += ' ' + line
            if line.endswith(';'):
                items.append(function(*pending))
                pending = None
            continue
        if FRAME.match(line):
            doc = False
            continue
        if struct is not None:
            if line.startswith('}'):
                struct = None
            else:
                items.append(Item(number, 'field', struct + '.' + field_name(line), line, doc))
            doc = False
            continue
        if line.startswith('#define '):
            items.append(Item(number, 'macro', line.split()[1], line, doc))
        elif line.startswith('typedef struct') and line.endswith('{'):
            struct = line.split()[2]
            items.append(Item(number, 'struct', struct, line, doc))
        elif line.startswith('typedef'):
            items.append(Item(number, 'typedef', typedef_name(line), line, doc))
        elif '(' in line:
            if line.endswith(';'):
                items.append(function(number, line, doc))
            else:
                pending = [number, line, doc]
                continue
        else:
            items.append(Item(number, 'unknown', line, line, False))
        doc = False
    return items


def function(number, text, documented):
    name = re.search(r'(\w+)\s*\(', text).group(1)
    return Item(number, 'function', name, text, documented)


def field_name(line):
    declaration = line.rstrip(';')
    pointer = re.search(r'\(\*(\w+)\)', declaration)
    if pointer:
        return pointer.group(1)
    return re.search(r'(\w+)\s*(\[[^\]]*\])*$', declaration).group(1)


def typedef_name(line):
    pointer = re.search(r'\(\*(\w+)\)', line)
    return pointer.group(1) if pointer else re.search(r'(\w+)\s*;$', line).group(1)


def check_docs(header):
    items = declarations(header)
    problems = [f'line {i.line}: {i.kind} {i.name} has no doc comment'
                for i in items if not i.documented]
    problems += [f'line {i.line}: unrecognised declaration {i.text!r}'
                 for i in items if i.kind == 'unknown']
    return problems, f'{len(items)} declarations, all documented'


def check_version(header, cargo_toml):
    version = re.search(r'^version\s*=\s*"([^"]+)"', cargo_toml, re.M).group(1)
    major, minor, patch = version.split('-')[0].split('.')
    expected = {'KEYPROV_VERSION_MAJOR': major, 'KEYPROV_VERSION_MINOR': minor,
                'KEYPROV_VERSION_PATCH': patch, 'KEYPROV_VERSION_STRING': f'"{version}"'}
    problems = []
    for name, value in expected.items():
        found = re.search(rf'^#define {name} (.+)$', header, re.M)
        if not found or found.group(1).strip() != value:
            problems.append(f'{name} is {found and found.group(1)!r}, Cargo.toml says {value}')
    return problems, f'version macros match {version}'


def check_symbols(header, library):
    wanted = {i.name for i in declarations(header) if i.kind == 'function'}
    listing = subprocess.run(['nm', '-D', '--defined-only', library], check=True,
                             capture_output=True, text=True).stdout
    exported = {line.split()[-1] for line in listing.splitlines()
                if line.split()[-1].startswith('keyprov_')}
    problems = [f'{name} is in the header but not exported' for name in sorted(wanted - exported)]
    problems += [f'{name} is exported but not in the header' for name in sorted(exported - wanted)]
    return problems, f'{len(wanted)} functions, each exported by {library}'


def layout_program(header):
    """A C99 program asking the library for the layout of every struct and field it declares."""
    checks = []
    for item in declarations(header):
        if item.kind == 'struct':
            struct = item.name
            checks.append(f'    check("{struct}", sizeof({struct}), ALIGN_OF({struct}), 0);')
        elif item.kind == 'field':
            struct, name = item.name.split('.')
            probe = re.sub(rf'\b{name}\b', 'probe', item.text.rstrip(';'), count=1)
            checks.append(
                f'    check("{item.name}", sizeof((({struct} *)0)->{name}),\n'
                f'          offsetof(struct {{ char c; {probe}; }}, probe),\n'
                f'          offsetof({struct}, {name}));')
    program = LAYOUT_TEMPLATE.replace('@CHECKS@', '\n'.join(checks))
    return program.replace('@COUNT@', str(len(checks)))


LAYOUT_TEMPLATE = '''/* Generated by bindings/c/header_tool.py: do not edit. */
#include <stdio.h>
#include <string.h>

#include <keyprov.h>

#define ALIGN_OF(type) offsetof(struct { char c; type probe; }, probe)

static int failures;

static void check(const char *name, size_t size, size_t align, size_t offset) {
    keyprov_layout rust;
    keyprov_result r = keyprov_layout_of(name, strlen(name), &rust);
    if (r != KEYPROV_OK) {
        fprintf(stderr, "%s: library does not know it (result %u)\\n", name, (unsigned)r);
        failures++;
    } else if (rust.size != size || rust.align != align || rust.offset != offset) {
        fprintf(stderr, "%s: C size %zu align %zu offset %zu, Rust %zu %zu %zu\\n", name, size,
                align, offset, rust.size, rust.align, rust.offset);
        failures++;
    }
}

int main(void) {
@CHECKS@
    if (failures) {
        return 1;
    }
    printf("layout: @COUNT@ structs and fields agree with the library\\n");
    return 0;
}
'''


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    command, header = argv[1], open(argv[2]).read()
    if command == 'layout':
        with open(argv[3], 'w') as out:
            out.write(layout_program(header))
        return
    if command == 'docs':
        problems, summary = check_docs(header)
    elif command == 'version':
        problems, summary = check_version(header, open(argv[3]).read())
    elif command == 'symbols':
        problems, summary = check_symbols(header, argv[3])
    else:
        sys.exit(__doc__)
    for problem in problems:
        print(f'{argv[2]}: {problem}', file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f'{command}: {summary}')


if __name__ == '__main__':
    main(sys.argv)
