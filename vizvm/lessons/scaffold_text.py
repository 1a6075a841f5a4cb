"""The text of a new pack and lesson, commented for an author who does not program.

Kept apart from scaffold.py so that the words can be edited without reading code.
"""

from __future__ import annotations

PACK_TOML = """\
# pack.toml: what this lesson pack is. The reference: docs/lesson-format.md.

format = 1                    # the lesson format this pack is written in (leave it at 1)
id = {pack:<25}# the pack's name: lowercase letters, digits, - and _
title = {title:<22}# the title students see
version = "0.1.0"             # raise it when you change the pack (major.minor.patch)
min_app_version = "{app}"     # the oldest vizvm that can open the pack
authors = ["Your Name <you@example.org>"]
license = "CC-BY-4.0"         # the licence of your text, as an SPDX name
lessons = {lessons:<20}# the lesson folders, in the order students take them
"""

LESSON_TOML = """\
# lesson.toml: one lesson. Every key is explained beside it; the full list is in
# docs/lesson-format.md. Check your work with: vizvm lesson check <the pack folder>

id = "{lesson}"               # must equal the name of this folder
title = "{title}"
question = "What does a trap cost a guest that writes to a device?"   # the question it answers
minutes = 10                  # about how long it takes, shown in the lesson list

# A guest program: its assembly source and the image built from it.
# Rebuild the image after editing the source: vizvm lesson check --build
[[programs]]
name = "{program}"            # the name that steps use below
source = "{program}.asm"      # the source, in this folder
image = "{program}.bin"       # the built image, in this folder

# A parameter: each student gets their own value, drawn from their name.
# It is written in {{count}} in the text below, and the program reads it from
# memory at 0x500 (the first parameter; the second would be at 0x504).
[[params]]
name = "count"
kind = "int"                  # a whole number from min to max
min = 3
max = 9

# Steps come one after another. A "read" step only shows text.
[[steps]]
id = "intro"
kind = "read"
title = "What we will look at"
text = "intro.md"             # the text, a Markdown file in this folder

# A "run" step opens the program in the window, one pane per technique.
[[steps]]
id = "run-it"
kind = "run"
title = "Run the program"
body = \"\"\"
{run_body}
\"\"\"
program = "{program}"         # a program above, or a built-in guest such as "hello"
techniques = ["native", "trap-emulate"]    # the panes to open, side by side
hints = ["Press Run in each pane, then compare the event counts."]

# Checks are the questions of the step above them.
# "trap": will this instruction trap? vizvm finds the answer by running it.
[[steps.checks]]
id = "cli-traps"
kind = "trap"
prompt = "Does `cli` trap under trap-and-emulate?"
instruction = "cli"           # assembly; statements before the last, split by ;, set it up
technique = "trap-emulate"

# "number" with compute: the answer is measured by running the program with the
# student's own parameter values, never written by hand.
[[steps.checks]]
id = "traps"
kind = "number"
prompt = "{number_prompt}"
compute = "events.trap"       # the quantity: here, how many traps the run made
technique = "trap-emulate"    # the technique it is measured under
points = 2                    # what the check is worth (default 1)

# "choice": one right answer among several; feedback is shown after checking.
[[steps.checks]]
id = "why"
kind = "choice"
prompt = "Why does the monitor see every `out` instruction?"
choices = [
  {{ text = "The kernel runs deprivileged: `out` faults to the monitor.", correct = true }},
  {{ text = "The serial port is slow.", feedback = "Not speed: look at the rings." }},
]
"""

INTRO_MD = """\
# {title}

Under **native**, the guest runs at ring 0 and talks to its devices directly.
Under **trap-and-emulate**, the guest's kernel runs deprivileged: each
instruction that only ring 0 may run stops the CPU and enters the monitor,
which carries it out on the guest's behalf.

{intro_program}
"""

STARS_ASM = """\
# {program}.asm: prints one star per count on COM1, then powers off with the count.
# The count is the lesson's first parameter, written at 0x500 before the start.

.equ COM1, 0x3f8
.equ DEBUG_EXIT, 0xf4

    mov ecx, [0x500]          # the student's count
    mov dx, COM1
    mov al, 0x2a              # '*'
again:
    out dx, al                # one star: a device write, so a trap when deprivileged
    loop again
    mov al, 0x0a              # a new line
    out dx, al
    mov eax, [0x500]
    out DEBUG_EXIT, al        # power off, with the count as the exit code
    hlt
"""

STARS = {
    "run_body": "Run the program under both techniques. It writes {count} stars to the "
    "serial port,\none `out` instruction each, then a new line, then powers off.",
    "number_prompt": "How many traps did the run make under trap-and-emulate?",
    "intro_program": "This lesson's program writes {count} stars, one device write each. "
    "Your count,\n{count}, is drawn from your name: a classmate may have another.",
}
HELLO = {  # when no assembler is installed: the built-in hello guest, and its image
    "run_body": "Run the program under both techniques. It writes a line to the serial "
    "port,\none `out` instruction per character, then powers off.",
    "number_prompt": "How many traps did the run make under trap-and-emulate?",
    "intro_program": "This lesson's program writes one line, a device write per "
    "character. The\nparameter {count} is not used by it yet: edit the program to read "
    "it at 0x500.",
}
