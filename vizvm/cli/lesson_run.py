"""`vizvm lesson run ID`: a lesson in the terminal, as a student would meet it.

With --show-answers every check's answer is computed the way grading does
(by running the machine) and shown with its evidence: how an instructor
sees what a variant's answers are before a class does.
"""

from __future__ import annotations

import argparse

from vizvm.cli.render import indent
from vizvm.lessons.checks import CheckError, evaluate, reference_answer
from vizvm.lessons.model import Check, Lesson, Pack, Step
from vizvm.lessons.runs import StepRuns


def run(args: argparse.Namespace, found: tuple[Pack, Lesson]) -> tuple[dict, str]:
    from vizvm.lessons import variants

    pack, lesson = found
    if args.seed is not None:
        seed = args.seed
    elif args.student:
        seed = variants.seed_for(args.student, pack.id, lesson.id)
    else:
        seed = 0
    values = variants.draw(lesson.params, seed)
    runs = StepRuns()
    steps = [_step(lesson, step, values, runs, args.show_answers) for step in lesson.steps]
    doc = {"pack": pack.id, "pack_version": pack.version, "lesson": lesson.id,
           "title": lesson.title, "question": lesson.question, "minutes": lesson.minutes,
           "student": args.student, "seed": seed, "values": values, "steps": steps}
    return doc, _text(doc)


def _step(lesson: Lesson, step: Step, values: dict[str, int], runs: StepRuns,
          show: bool) -> dict:
    from vizvm.lessons import variants

    out: dict = {"id": step.id, "kind": step.kind, "title": step.title,
                 "text": variants.substitute(step.markdown, values), "program": step.program,
                 "techniques": list(step.techniques), "hints": list(step.hints),
                 "host": None if step.host is None else step.host.scenario, "checks": []}
    for check in step.checks:
        item = {"id": check.id, "kind": check.kind, "points": check.points,
                "prompt": variants.substitute(check.prompt, values),
                "choices": [variants.substitute(c.text, values) for c in check.choices]}
        if show:
            item.update(_answer(lesson, step, check, values, runs))
        out["checks"].append(item)
    return out


def _answer(lesson: Lesson, step: Step, check: Check, values: dict[str, int],
            runs: StepRuns) -> dict:
    try:
        answer = reference_answer(lesson, step, check, values, runs)
        verdict = evaluate(lesson, step, check, answer, values, runs)
    except CheckError as exc:
        return {"answer": None, "evidence": None, "error": str(exc)}
    return {"answer": answer, "evidence": verdict.feedback.removeprefix("Right: ").rstrip(".")}


def _text(doc: dict) -> str:
    variant = ", ".join(f"{k} = {v}" for k, v in doc["values"].items())
    lines = [f"{doc['title']}  ({doc['pack']}/{doc['lesson']}, about {doc['minutes']} min)",
             f"Question: {doc['question']}"]
    if variant:
        lines.append(f"Variant: {variant} (seed {doc['seed']})")
    for n, step in enumerate(doc["steps"], 1):
        lines += ["", f"{n}. [{step['kind']}] {step['title']}", indent(step["text"].strip())]
        if step["program"]:
            lines.append(f"   program {step['program']} under {', '.join(step['techniques'])}")
        if step["host"]:
            lines.append(f"   host scenario {step['host']}")
        for check in step["checks"]:
            lines.append(f"   ? {check['prompt'].strip()}  [{check['kind']}, "
                         f"{check['points']} pt]")
            lines += [f"       {i}) {text}" for i, text in enumerate(check["choices"])]
            if "answer" in check:
                shown = check["error"] if check["answer"] is None else (
                    f"answer: {check['answer']}  ({check['evidence']})")
                lines.append(f"     = {shown}")
    return "\n".join(lines)
