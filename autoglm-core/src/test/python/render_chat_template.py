#!/usr/bin/env python3
"""Reference renderer for chat templates, used by ChatTemplateTest.

Mirrors Hugging Face transformers' chat template rendering
(src/transformers/utils/chat_template_utils.py: _compile_jinja_template and render_jinja_template):
an ImmutableSandboxedEnvironment with trim_blocks=True, lstrip_blocks=True, the loopcontrols extension and a
`{% generation %}` block (which renders its body unchanged), a `tojson` filter overridden by json.dumps with
ensure_ascii=False, and the globals `raise_exception` and `strftime_now`. Variables: messages, tools,
documents, add_generation_prompt, bos_token, eos_token and any extra keyword arguments.

Input (stdin, JSON): {"cases": [{"template": str, "messages": [...], "tools": [...]|null,
  "add_generation_prompt": bool, "bos_token": str|null, "eos_token": str|null, "extra": {...}|null,
  "now": "YYYY-MM-DDTHH:MM:SS"|null}]}
Output (stdout, JSON): {"results": [{"text": str} | {"error": str}]}
Exit code 3 with a message on stderr when jinja2 is missing.
"""
import json
import sys
from datetime import datetime

try:
    import jinja2
    from jinja2.ext import Extension
    from jinja2.sandbox import ImmutableSandboxedEnvironment
except ImportError:
    sys.stderr.write("render_chat_template.py: the Python package jinja2 is not installed (pip install jinja2)\n")
    sys.exit(3)


class GenerationBlock(Extension):
    """{% generation %}...{% endgeneration %}: transformers uses it to track assistant tokens; output is the body."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def compile_template(source, now):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return (now or datetime.now()).strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationBlock, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(source)


def render(case):
    now = datetime.fromisoformat(case["now"]) if case.get("now") else None
    template = compile_template(case["template"], now)
    kwargs = dict(case.get("extra") or {})
    if case.get("bos_token") is not None:
        kwargs["bos_token"] = case["bos_token"]
    if case.get("eos_token") is not None:
        kwargs["eos_token"] = case["eos_token"]
    return template.render(messages=case["messages"], tools=case.get("tools"), documents=None,
                           add_generation_prompt=case.get("add_generation_prompt", False), **kwargs)


def main():
    request = json.load(sys.stdin)
    results = []
    for case in request["cases"]:
        try:
            results.append({"text": render(case)})
        except Exception as e:  # the test compares failures too: both sides must fail
            results.append({"error": type(e).__name__ + ": " + str(e)})
    sys.stdout.write(json.dumps({"results": results}, ensure_ascii=True))


if __name__ == "__main__":
    main()
