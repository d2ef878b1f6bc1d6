"""One lifetime of a real opsdroid 0.31 bot whose memory is persona-memory (a test helper).

    python opsdroid_bot.py WORKDIR BASE_PATH PORT "remember the milk" "remind me" ...

Writes the seed's RememberSkill and a connector that captures replies into WORKDIR, starts
opsdroid with ``databases: {persona_memory: {...}}`` (found through the ``opsdroid_databases``
entry point: no ``path:``), sends each message, stops, and prints one JSON object: the replies
per message and the classes opsdroid loaded as databases. Run it again for a restart.
"""

from __future__ import annotations

import asyncio
import gettext
import json
import sys
import warnings
from pathlib import Path

# The seed's skill (docs/skills/memory.md). Two lines differ: the blank "remember =" is filled in
# with the regex group, and "remind me" passes get() a default, the documented way to answer
# gracefully when nothing is remembered.
SKILL = '''
from opsdroid.skill import Skill
from opsdroid.matchers import match_regex

class RememberSkill(Skill):
    @match_regex(r'remember (.*)')
    async def remember(self, message):
        remember = message.regex.group(1)
        await self.opsdroid.memory.put("remember_this", remember)
        await message.respond("OK I'll remember that")

    @match_regex(r'remind me')
    async def remind_me(self, message):
        information = await self.opsdroid.memory.get("remember_this", "I don't remember anything.")
        await message.respond(information)

    @match_regex(r'forget it')
    async def forget_it(self, message):
        await self.opsdroid.memory.delete("remember_this")
        await message.respond("Ok I'll forget it")
'''

CONNECTOR = '''
from opsdroid.connector import Connector, register_event
from opsdroid.events import Message

class CaptureConnector(Connector):
    def __init__(self, config, opsdroid=None):
        super().__init__(config, opsdroid=opsdroid)
        self.name = "capture"
        self.replies = []

    async def connect(self):
        pass

    async def listen(self):
        pass

    @register_event(Message)
    async def send_message(self, message):
        self.replies.append(message.text)
'''


async def lifetime(workdir: Path, base_path: str, port: int, messages: list[str]) -> dict[str, object]:
    from opsdroid.core import OpsDroid
    from opsdroid.events import Message
    from opsdroid.testing import run_unit_test

    (workdir / "remember_skill.py").write_text(SKILL)
    (workdir / "capture_connector.py").write_text(CONNECTOR)
    config = {
        "connectors": {"capture": {"path": str(workdir / "capture_connector.py")}},
        "skills": {"remember": {"path": str(workdir / "remember_skill.py")}},
        "databases": {"persona_memory": {"base_path": base_path, "namespace": "bot"}},
        "web": {"host": "127.0.0.1", "port": port},
        "module-path": str(workdir / "modules"),
    }
    replies: list[list[str]] = []
    with OpsDroid(config=config) as bot:
        await bot.load()
        databases = [type(db).__name__ for db in bot.memory.databases]

        async def conversation() -> None:
            connector = bot.connectors[0]
            for text in messages:
                before = len(connector.replies)
                await bot.parse(Message(text, user="user", target="room", connector=connector))
                replies.append(connector.replies[before:])

        await run_unit_test(bot, conversation, start_timeout=10)
        await bot.unload()
    return {"databases": databases, "replies": replies}


def main() -> None:
    workdir, base_path, port, *messages = sys.argv[1:]
    warnings.simplefilter("ignore")  # opsdroid 0.31 imports pkg_resources, which warns
    gettext.install("opsdroid")
    result = asyncio.run(lifetime(Path(workdir), base_path, int(port), messages))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
