"""The official OpenAI Python SDK against Agentry's /v1 (see run.sh): every step asserts
what a user of the SDK observes."""

import json
import os
import sys
import time

from openai import NotFoundError, OpenAI, UnprocessableEntityError

URL = os.environ["AGENTRY_URL"]
MODEL = os.environ["AGENTRY_MODEL"]
AGENT_ID = os.environ["AGENTRY_AGENT_ID"]
client = OpenAI(base_url=f"{URL}/v1", api_key=os.environ["AGENTRY_API_KEY"], max_retries=0)
passed = 0


def step(name, ok, detail=""):
    global passed
    if not ok:
        print(f"FAIL: {name}: {detail}", file=sys.stderr)
        sys.exit(1)
    passed += 1
    print(f"ok: {name}")


# Models: the caller's live agents.
models = client.models.list()
ids = [m.id for m in models.data]
step("models.list holds the agent", AGENT_ID in ids, ids)
model = client.models.retrieve(MODEL)
step("models.retrieve by name", model.id == AGENT_ID and model.object == "model", model)

# A whole chat completion.
completion = client.chat.completions.create(
    model=MODEL, messages=[{"role": "user", "content": "hello there"}]
)
choice = completion.choices[0]
step(
    "chat.completions.create",
    completion.object == "chat.completion"
    and completion.id.startswith("chatcmpl-")
    and choice.message.content == "echo: hello there"
    and choice.finish_reason == "stop"
    and completion.usage.total_tokens
    == completion.usage.prompt_tokens + completion.usage.completion_tokens > 0,
    completion,
)

# A streamed one, with the usage chunk.
stream = client.chat.completions.create(
    model=AGENT_ID,
    messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "stream me please"}],
    stream=True,
    stream_options={"include_usage": True},
)
text, finish, usage, chunks = "", None, None, 0
for chunk in stream:
    chunks += 1
    if chunk.choices:
        text += chunk.choices[0].delta.content or ""
        finish = chunk.choices[0].finish_reason or finish
    if chunk.usage:
        usage = chunk.usage
step(
    "chat.completions.create(stream=True)",
    text == "echo: stream me please" and finish == "stop" and usage and usage.total_tokens > 0 and chunks > 3,
    (text, finish, usage, chunks),
)

# A client tool: the call comes back as tool_calls, the result goes back in the history.
tools = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]
messages = [{"role": "user", "content": '/call get_weather {"city": "Paris"}'}]
asked = client.chat.completions.create(model=MODEL, messages=messages, tools=tools)
choice = asked.choices[0]
calls = choice.message.tool_calls or []
step(
    "a client tool call comes back as tool_calls",
    choice.finish_reason == "tool_calls"
    and len(calls) == 1
    and calls[0].function.name == "get_weather"
    and json.loads(calls[0].function.arguments) == {"city": "Paris"},
    asked,
)
messages.append(
    {
        "role": "assistant",
        "content": choice.message.content,
        "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.function.name, "arguments": c.function.arguments}}
            for c in calls
        ],
    }
)
messages.append({"role": "tool", "tool_call_id": calls[0].id, "content": "sunny"})
answered = client.chat.completions.create(model=MODEL, messages=messages, tools=tools)
step(
    "the tool's result goes back in the history",
    answered.choices[0].message.content == "echo: get_weather returned sunny"
    and answered.choices[0].finish_reason == "stop",
    answered,
)

# The same call, streamed.
stream = client.chat.completions.create(model=MODEL, messages=messages[:1], tools=tools, stream=True)
streamed_calls, finish = [], None
for chunk in stream:
    if chunk.choices:
        streamed_calls += chunk.choices[0].delta.tool_calls or []
        finish = chunk.choices[0].finish_reason or finish
step(
    "a streamed client tool call",
    finish == "tool_calls" and [c.function.name for c in streamed_calls] == ["get_weather"],
    (finish, streamed_calls),
)

# Errors the SDK raises.
try:
    client.chat.completions.create(model="no-such-agent", messages=[{"role": "user", "content": "hi"}])
    step("an unknown model is a NotFoundError", False, "no error")
except NotFoundError as err:
    step(
        "an unknown model is a NotFoundError",
        "no-such-agent" in err.message and err.param == "model" and err.code == "model_not_found",
        (err.message, err.body),
    )
try:
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], n=2)
    step("n > 1 is refused naming n", False, "no error")
except UnprocessableEntityError as err:
    step("n > 1 is refused naming n", err.param == "n", err.body)


# Responses: plain.
response = client.responses.create(model=MODEL, input="hello responses", instructions="be brief")
step(
    "responses.create",
    response.object == "response" and response.status == "completed" and response.output_text == "echo: hello responses",
    response,
)
step("responses.retrieve", client.responses.retrieve(response.id).output_text == "echo: hello responses")

# In the background, then read back.
queued = client.responses.create(model=MODEL, input="in the background", background=True)
step("background starts at once", queued.status in ("queued", "in_progress", "completed"), queued)
for _ in range(100):
    later = client.responses.retrieve(queued.id)
    if later.status == "completed":
        break
    time.sleep(0.05)
step("background answers later", later.status == "completed" and later.output_text == "echo: in the background", later)

# Streamed, then resumed from a sequence number.
events = list(client.responses.create(model=MODEL, input="stream the response", stream=True))
numbers = [e.sequence_number for e in events]
text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
step(
    "responses.create(stream=True)",
    events[0].type == "response.created"
    and events[-1].type == "response.completed"
    and numbers == list(range(len(events)))
    and text == "echo: stream the response",
    [e.type for e in events],
)
streamed_id = events[-1].response.id
resumed = list(client.responses.retrieve(streamed_id, stream=True, starting_after=3))
step(
    "retrieve(stream=True, starting_after=3) resumes exactly",
    [e.sequence_number for e in resumed] == numbers[4:] and [e.type for e in resumed] == [e.type for e in events[4:]],
    [e.sequence_number for e in resumed],
)

# A function call, answered with previous_response_id and function_call_output.
tools = [
    {
        "type": "function",
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]
asked = client.responses.create(model=MODEL, input='/call get_weather {"city": "Oslo"}', tools=tools)
calls = [item for item in asked.output if item.type == "function_call"]
step("a function call ends the response", len(calls) == 1 and calls[0].name == "get_weather", asked.output)
answered = client.responses.create(
    model=MODEL,
    previous_response_id=asked.id,
    input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": "rain"}],
    tools=tools,
)
step(
    "previous_response_id with function_call_output",
    answered.output_text == "echo: get_weather returned rain" and answered.previous_response_id == asked.id,
    answered,
)

# Cancel a slow background response, then delete it.
slow = client.responses.create(model=MODEL, input=" ".join(["slow"] * 40), background=True)
cancelled = client.responses.cancel(slow.id)
step("responses.cancel", cancelled.status == "cancelled", cancelled.status)
client.responses.delete(slow.id)
try:
    client.responses.retrieve(slow.id)
    step("a deleted response is gone", False, "still there")
except NotFoundError:
    step("a deleted response is gone", True)

print(f"python sdk: {passed} passed, 0 failed")
