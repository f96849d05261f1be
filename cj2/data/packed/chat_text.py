"""Prompt text of a conversation, as ``tokenizer.apply_chat_template(messages,
add_generation_prompt=True, tokenize=False)`` gives it, without a Jinja render per prompt.

A build renders one prompt per sample, and a Jinja render costs more than tokenizing the
prompt. When the chat template uses a message's content only by pasting it into the output or
by testing whether it is empty (:func:`content_only_pasted`, read from the template's syntax
tree), a conversation's text is the template's text for the same roles with a sentinel in place
of each content, every sentinel then replaced by its content. That text (a skeleton) is
rendered once per shape (roles, and which contents are empty), through the tokenizer itself. A
template that inspects, transforms or escapes content is always rendered in full.
"""

from __future__ import annotations

import functools

# Quotes and newlines: a template that escaped or trimmed content would not show it verbatim.
_SENTINEL = '\n"cj2 content {}"\n'


def _is_content(node) -> bool:
    from jinja2 import nodes

    if isinstance(node, nodes.Getattr):
        return node.attr == "content"
    return isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and node.arg.value == "content"


def _only_pasted(node, context: str | None) -> bool:
    """Whether every content reference under ``node`` is pasted (``"paste"``) or tested for emptiness (``"truth"``)."""
    from jinja2 import nodes

    if _is_content(node):
        return context is not None
    for field, value in node.iter_fields():
        if isinstance(node, nodes.Output):
            child = "paste"
        elif isinstance(node, (nodes.Add, nodes.Concat)) and context == "paste":
            child = "paste"
        elif isinstance(node, (nodes.Not, nodes.And, nodes.Or)) and context == "truth":
            child = "truth"
        elif isinstance(node, (nodes.If, nodes.CondExpr)) and field == "test":
            child = "truth"
        elif isinstance(node, nodes.CondExpr) and context == "paste":
            child = "paste"  # {{ message.content if ... else ... }}
        else:
            child = None
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, nodes.Node) and not _only_pasted(item, child):
                return False
    return True


def content_only_pasted(template: str) -> bool:
    """Whether ``template`` only pastes message contents into its output or tests them for emptiness."""
    import jinja2.ext
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    try:
        tree = ImmutableSandboxedEnvironment(extensions=[jinja2.ext.loopcontrols]).parse(template)
    except jinja2.TemplateSyntaxError:  # tags this environment does not know ({% generation %}): render in full
        return False
    return _only_pasted(tree, None)


class ChatText:
    """``apply_chat_template(messages, add_generation_prompt=True, tokenize=False)`` of one tokenizer, skeletons cached."""

    def __init__(self, tokenizer):
        self._tokenizer = tokenizer
        self._template: str | None = None
        self._fast = False
        self._skeletons: dict[tuple, list[str] | None] = {}

    def _follow_template(self) -> None:
        """Start over whenever the tokenizer's chat template is another one than the skeletons came from."""
        template = self._tokenizer.chat_template
        if template is not self._template:
            self._template = template
            self._fast = bool(template) and content_only_pasted(template)
            self._skeletons = {}

    def _render(self, messages: list[dict]) -> str:
        return self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def __call__(self, messages: list[dict]) -> str:
        self._follow_template()
        if not self._fast or any(len(m) != 2 or not isinstance(m.get("content"), str) or not isinstance(m.get("role"), str) for m in messages):
            return self._render(messages)
        shape = tuple((m["role"], bool(m["content"]), next(iter(m)) == "role") for m in messages)  # key order shows in tojson
        if shape not in self._skeletons:
            self._skeletons[shape] = self._skeleton(shape)
        pieces = self._skeletons[shape]
        if pieces is None:
            return self._render(messages)
        out = [pieces[0]]
        for content, piece in zip((m["content"] for m in messages if m["content"]), pieces[1:], strict=True):
            out += (content, piece)
        return "".join(out)

    def _skeleton(self, shape: tuple) -> list[str] | None:
        """The text around each non-empty content, or None when a sentinel does not appear once, verbatim, in order."""
        sentinels = [_SENTINEL.format(i) for i in range(len(shape))]
        messages = []
        for (role, filled, role_first), sentinel in zip(shape, sentinels, strict=True):
            fields = [("role", role), ("content", sentinel if filled else "")]
            messages.append(dict(fields if role_first else fields[::-1]))
        text = self._render(messages)
        pieces = []
        for (_, filled, _), sentinel in zip(shape, sentinels, strict=True):
            if not filled:
                continue
            if text.count(sentinel) != 1:
                return None
            before, text = text.split(sentinel)
            pieces.append(before)
        return [*pieces, text]


@functools.lru_cache(maxsize=8)
def chat_text(tokenizer) -> ChatText:
    """The prompt renderer of ``tokenizer`` (its skeletons kept for the life of the process)."""
    return ChatText(tokenizer)
