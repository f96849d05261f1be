"""Prompt text from cached skeletons equals the tokenizer's own chat-template render, for every template."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cj2.data.packed.chat_text import ChatText, content_only_pasted
from cj2.data.packed.tokenizer import QWEN25_CHAT_TEMPLATE, bundled_dir


class WithTemplate:
    """The real tokenizer rendering another chat template (as a checkpoint that ships it would)."""

    def __init__(self, tokenizer, template: str):
        self._tokenizer = tokenizer
        self.chat_template = template

    def apply_chat_template(self, messages, **kwargs):
        return self._tokenizer.apply_chat_template(messages, chat_template=self.chat_template, **kwargs)


PASTING = {
    "qwen2.5 (cj2's)": QWEN25_CHAT_TEMPLATE,
    # Empty contents take another branch, and content also appears through messages[0]: both allowed.
    "tests emptiness": (
        "{% if messages[0]['role'] == 'system' %}[S]{{ messages[0]['content'] }}{% endif %}"
        "{% for m in messages %}{% if m.role != 'system' or not loop.first %}"
        "<{{ m.role }}>{% if m.content %}{{ m.content ~ '|' }}{% else %}(empty){% endif %}{% endif %}{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}"
    ),
}
INSPECTING = {
    "trims": "{% for m in messages %}<{{ m.role }}>{{ m.content | trim }}{% endfor %}",
    "calls a method": "{% for m in messages %}<{{ m.role }}>{{ m.content.strip() }}{% endfor %}",
    "branches on text": "{% for m in messages %}{% if m.content.startswith('#') %}H{% endif %}{{ m.content }}{% endfor %}",
    "assigns it": "{% for m in messages %}{% set c = m.content %}{{ c | upper }}{% endfor %}",
}
# Passes the syntax check but escapes content: caught by the sentinel's quotes and newlines.
ESCAPING = "{{ messages | tojson }}{% if add_generation_prompt %}<assistant>{% endif %}"

role = st.sampled_from(["system", "user", "assistant"])
content = st.one_of(st.just(""), st.text(max_size=30), st.sampled_from(['\n"cj2 content 0"\n', "<|im_end|>", " x ", "{{ y }}"]))
conversation = st.lists(st.fixed_dictionaries({"role": role, "content": content}), min_size=1, max_size=4)


def test_the_syntax_check_tells_pasting_from_inspecting_templates():
    assert all(content_only_pasted(t) for t in PASTING.values())
    assert not any(content_only_pasted(t) for t in INSPECTING.values())


@pytest.mark.parametrize("name", [*PASTING, *INSPECTING, "escaping"])
@settings(max_examples=60, deadline=None)
@given(messages=conversation)
@example(messages=[{"role": "system", "content": ""}, {"role": "user", "content": "q"}])
@example(messages=[{"role": "user", "content": '\n"cj2 content 1"\n'}, {"role": "user", "content": "a"}])  # content that looks like a sentinel
def test_rendered_prompts_equal_the_tokenizer_render(qwen_tokenizer, name, messages):
    template = PASTING.get(name) or INSPECTING.get(name) or ESCAPING
    tokenizer = WithTemplate(qwen_tokenizer, template)
    expected = qwen_tokenizer.apply_chat_template(messages, chat_template=template, add_generation_prompt=True, tokenize=False)
    render = ChatText(tokenizer)
    assert render(messages) == expected
    assert render(messages) == expected  # the cached skeleton too


def test_the_qwen_wheels_own_template_inspects_content_and_is_rendered_in_full(qwen_tokenizer):
    import json

    template = json.loads((bundled_dir("qwen2.5") / "tokenizer_config.json").read_text())["chat_template"]
    assert not content_only_pasted(template)  # it splits assistant content at </think>
    messages = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "<think>\nx\n</think>\n\nA"}, {"role": "user", "content": "again"}]
    render = ChatText(WithTemplate(qwen_tokenizer, template))
    assert render(messages) == qwen_tokenizer.apply_chat_template(messages, chat_template=template, add_generation_prompt=True, tokenize=False)


def test_escaping_templates_fall_back_to_a_full_render(qwen_tokenizer):
    assert content_only_pasted(ESCAPING)  # the syntax check alone would allow it...
    render = ChatText(WithTemplate(qwen_tokenizer, ESCAPING))
    messages = [{"role": "user", "content": 'say "hi"\n'}]
    assert render(messages) == qwen_tokenizer.apply_chat_template(messages, chat_template=ESCAPING, add_generation_prompt=True, tokenize=False)
    assert list(render._skeletons.values()) == [None]  # ...the sentinel did not survive tojson


def test_a_changed_chat_template_is_followed(qwen_tokenizer):
    tokenizer = WithTemplate(qwen_tokenizer, PASTING["tests emptiness"])
    render = ChatText(tokenizer)
    messages = [{"role": "user", "content": "q"}]
    render(messages)
    tokenizer.chat_template = QWEN25_CHAT_TEMPLATE
    assert render(messages) == qwen_tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
