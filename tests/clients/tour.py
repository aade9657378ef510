"""The README tour through the client openapi-python-client generates (package
`agentry_client`, on PYTHONPATH): imports every generated module, then plays the tour
against the server at AGENTRY_URL."""

import importlib
import os
import pkgutil
import time

import agentry_client
from agentry_client import AuthenticatedClient, Client
from agentry_client.api.agents import create_agent, list_agents, update_agent
from agentry_client.api.auth import login, register
from agentry_client.api.chat import post_chat_message
from agentry_client.api.executions import execute_agent, list_execution_events, read_execution
from agentry_client.api.tools import create_tool
from agentry_client.api.users import read_me
from agentry_client.models import (
    Agent,
    AgentCreate,
    AgentUpdate,
    AgentUpdateMetadataType0,
    ChatMessageCreate,
    EventList,
    ExecutionCreate,
    Execution,
    ExecutionCompletedEvent,
    ExecutionStartedEvent,
    ExecutionStatus,
    LoginRequest,
    Message,
    MessageDeltaEvent,
    MessageRole,
    PageAgent,
    RegisterRequest,
    TokenPair,
    Tool,
    ToolCreate,
    ToolCreateParameters,
    User,
)
from agentry_client.types import UNSET


def import_every_module() -> int:
    """Imports each module of the generated package; a failure names the module."""
    count = 0
    for module in pkgutil.walk_packages(agentry_client.__path__, "agentry_client."):
        importlib.import_module(module.name)
        count += 1
    return count


def expect(value, kind):
    """The parsed answer, which must be a `kind` (a Problem or None otherwise)."""
    assert isinstance(value, kind), f"expected {kind.__name__}, got {value!r}"
    return value


def tour(base_url: str) -> str:
    name = f"py-{int(time.time() * 1000):x}"
    password = "correct-horse-battery"
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)

    # 1. Register, then log in with JSON.
    user = expect(
        register.sync(
            client=anonymous,
            body=RegisterRequest(email=f"{name}@example.com", username=name, password=password),
        ),
        User,
    )
    tokens = expect(login.sync(client=anonymous, body=LoginRequest(username=name, password=password)), TokenPair)
    assert tokens.token_type == "bearer"
    api = AuthenticatedClient(base_url=base_url, token=tokens.access_token, raise_on_unexpected_status=True)
    assert expect(read_me.sync(client=api), User).id == user.id

    # 2. An agent with only `name` and `model`; the server fills in the rest.
    agent = expect(create_agent.sync(client=api, body=AgentCreate(name="helper", model="echo-1")), Agent)
    assert agent.temperature == 0.7

    # 3. Metadata holds any JSON value under each key.
    metadata = AgentUpdateMetadataType0.from_dict({"team": "support", "priority": 2, "labels": ["tour"]})
    tagged = expect(update_agent.sync(agent.id, client=api, body=AgentUpdate(metadata=metadata)), Agent)
    assert tagged.metadata["team"] == "support"

    # 4. A tool whose parameters are a JSON Schema.
    parameters = ToolCreateParameters.from_dict(
        {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
            "additionalProperties": False,
        }
    )
    tool = expect(create_tool.sync(client=api, body=ToolCreate(name="get_weather", parameters=parameters)), Tool)
    assert tool.parameters.required == ["city"]

    # 5. A list, page by page, following `next_cursor` until it is None.
    for extra in ("second", "third"):
        expect(create_agent.sync(client=api, body=AgentCreate(name=extra, model="echo-1")), Agent)
    names: list[str] = []
    cursor: str | None = None
    while True:
        page = expect(list_agents.sync(client=api, limit=2, cursor=UNSET if cursor is None else cursor), PageAgent)
        names += [item.name for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(names) == page.total and sorted(names) == ["helper", "second", "third"], names

    # 6. A chat reply as JSON (no `stream`): the stored assistant message.
    reply = expect(
        post_chat_message.sync(client=api, body=ChatMessageCreate(content="hello", agent_id=agent.id)),
        Message,
    )
    assert reply.role == MessageRole.ASSISTANT and reply.content == "echo: hello", reply

    # 7. A background run, then its events, each read through its type.
    execution = expect(execute_agent.sync(agent.id, client=api, body=ExecutionCreate(input_="hi")), Execution)
    terminal = {ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED}
    status = execution.status
    for _ in range(200):
        if status in terminal:
            break
        time.sleep(0.05)
        status = expect(read_execution.sync(execution.id, client=api), Execution).status
    assert status == ExecutionStatus.COMPLETED, status
    events = expect(list_execution_events.sync(execution.id, client=api), EventList).items
    described = [f"{event.seq} {event.type_.value}" for event in events]
    # Each event is its own model: the class says the type and what `data` holds.
    text = "".join(event.data.delta for event in events if isinstance(event, MessageDeltaEvent))
    assert isinstance(events[0], ExecutionStartedEvent), described
    assert isinstance(events[-1], ExecutionCompletedEvent), described
    assert events[-1].data.output == text, (events[-1].data.output, text)
    return ", ".join(described)


if __name__ == "__main__":
    print(f"imported {import_every_module()} generated modules")
    url = os.environ.get("AGENTRY_URL")
    if url:
        print(f"Python tour passed: {tour(url)}")
