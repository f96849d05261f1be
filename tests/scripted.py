"""A scripted engine for tests of code that calls a judge or a policy: the engine protocol
(``generate`` / ``close``) around ``reply(messages)``, one answer per conversation, recording every
conversation it was given so tests can assert on the prompts."""


class ScriptedEngine:
    def __init__(self):
        self.prompts = []

    @property
    def calls(self) -> int:
        return len(self.prompts)

    def generate(self, prompts, n, temperature, top_p, max_tokens, seed):
        self.prompts += prompts
        return [[self.reply(messages)] for messages in prompts]

    def reply(self, messages: list) -> str:
        raise NotImplementedError

    def close(self):
        pass
