// The official OpenAI JavaScript SDK against Agentry's /v1 (see run.sh): every step
// asserts what a user of the SDK observes.
import OpenAI, { NotFoundError, UnprocessableEntityError } from "openai";

const { AGENTRY_URL, AGENTRY_MODEL: MODEL, AGENTRY_AGENT_ID: AGENT_ID, AGENTRY_API_KEY } = process.env;
const client = new OpenAI({ baseURL: `${AGENTRY_URL}/v1`, apiKey: AGENTRY_API_KEY, maxRetries: 0 });
let passed = 0;

function step(name, ok, detail = "") {
  if (!ok) {
    console.error(`FAIL: ${name}: ${JSON.stringify(detail)}`);
    process.exit(1);
  }
  passed += 1;
  console.log(`ok: ${name}`);
}

async function refused(name, call, Kind, check) {
  try {
    await call();
    step(name, false, "no error");
  } catch (err) {
    step(name, err instanceof Kind && check(err), { message: err.message, error: err.error });
  }
}

// Models: the caller's live agents.
const ids = [];
for await (const model of client.models.list()) ids.push(model.id);
step("models.list holds the agent", ids.includes(AGENT_ID), ids);
const model = await client.models.retrieve(MODEL);
step("models.retrieve by name", model.id === AGENT_ID && model.object === "model", model);

// A whole chat completion.
const completion = await client.chat.completions.create({
  model: MODEL,
  messages: [{ role: "user", content: "hello there" }],
});
step(
  "chat.completions.create",
  completion.object === "chat.completion" &&
    completion.id.startsWith("chatcmpl-") &&
    completion.choices[0].message.content === "echo: hello there" &&
    completion.choices[0].finish_reason === "stop" &&
    completion.usage.total_tokens === completion.usage.prompt_tokens + completion.usage.completion_tokens,
  completion,
);

// A streamed one, with the usage chunk.
const stream = await client.chat.completions.create({
  model: AGENT_ID,
  messages: [{ role: "user", content: "stream me please" }],
  stream: true,
  stream_options: { include_usage: true },
});
let text = "";
let finish = null;
let usage = null;
for await (const chunk of stream) {
  if (chunk.choices.length) {
    text += chunk.choices[0].delta.content ?? "";
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  if (chunk.usage) usage = chunk.usage;
}
step(
  "chat.completions.create({stream: true})",
  text === "echo: stream me please" && finish === "stop" && usage?.total_tokens > 0,
  { text, finish, usage },
);

// A client tool, through the SDK's own tool runner helper shape: call, run, answer.
const tools = [
  {
    type: "function",
    function: {
      name: "get_weather",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  },
];
const messages = [{ role: "user", content: '/call get_weather {"city": "Paris"}' }];
const asked = await client.chat.completions.create({ model: MODEL, messages, tools });
const calls = asked.choices[0].message.tool_calls ?? [];
step(
  "a client tool call comes back as tool_calls",
  asked.choices[0].finish_reason === "tool_calls" &&
    calls.length === 1 &&
    calls[0].function.name === "get_weather" &&
    JSON.parse(calls[0].function.arguments).city === "Paris",
  asked,
);
messages.push(asked.choices[0].message);
messages.push({ role: "tool", tool_call_id: calls[0].id, content: "sunny" });
const answered = await client.chat.completions.create({ model: MODEL, messages, tools });
step(
  "the tool's result goes back in the history",
  answered.choices[0].message.content === "echo: get_weather returned sunny",
  answered,
);

// Errors the SDK raises.
await refused(
  "an unknown model is a NotFoundError",
  () => client.chat.completions.create({ model: "no-such-agent", messages: [{ role: "user", content: "hi" }] }),
  NotFoundError,
  (err) => err.message.includes("no-such-agent") && err.param === "model" && err.code === "model_not_found",
);
await refused(
  "n > 1 is refused naming n",
  () => client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }], n: 2 }),
  UnprocessableEntityError,
  (err) => err.param === "n",
);


// Responses: plain.
const response = await client.responses.create({ model: MODEL, input: "hello responses" });
step(
  "responses.create",
  response.object === "response" && response.status === "completed" && response.output_text === "echo: hello responses",
  response,
);

// In the background, then read back.
const queued = await client.responses.create({ model: MODEL, input: "in the background", background: true });
let later = queued;
for (let i = 0; i < 100 && later.status !== "completed"; i++) {
  await new Promise((r) => setTimeout(r, 50));
  later = await client.responses.retrieve(queued.id);
}
step("background answers later", later.output_text === "echo: in the background", later);

// Streamed, then resumed from a sequence number.
const events = [];
for await (const event of await client.responses.create({ model: MODEL, input: "stream the response", stream: true })) {
  events.push(event);
}
const numbers = events.map((e) => e.sequence_number);
step(
  "responses.create({stream: true})",
  events[0].type === "response.created" &&
    events.at(-1).type === "response.completed" &&
    numbers.every((n, i) => n === i) &&
    events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join("") === "echo: stream the response",
  events.map((e) => e.type),
);
const resumed = [];
for await (const event of await client.responses.retrieve(events.at(-1).response.id, { stream: true, starting_after: 3 })) {
  resumed.push(event.sequence_number);
}
step("retrieve({stream: true, starting_after: 3}) resumes exactly", JSON.stringify(resumed) === JSON.stringify(numbers.slice(4)), resumed);

// A function call, answered with previous_response_id and function_call_output.
const fnTools = [
  { type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
];
const asked2 = await client.responses.create({ model: MODEL, input: '/call get_weather {"city": "Oslo"}', tools: fnTools });
const fnCalls = asked2.output.filter((item) => item.type === "function_call");
step("a function call ends the response", fnCalls.length === 1 && fnCalls[0].name === "get_weather", asked2.output);
const answered2 = await client.responses.create({
  model: MODEL,
  previous_response_id: asked2.id,
  input: [{ type: "function_call_output", call_id: fnCalls[0].call_id, output: "rain" }],
  tools: fnTools,
});
step("previous_response_id with function_call_output", answered2.output_text === "echo: get_weather returned rain", answered2);

// Cancel a slow background response, then delete it.
const slow = await client.responses.create({ model: MODEL, input: Array(40).fill("slow").join(" "), background: true });
const cancelled = await client.responses.cancel(slow.id);
step("responses.cancel", cancelled.status === "cancelled", cancelled.status);
await client.responses.delete(slow.id);
await refused("a deleted response is gone", () => client.responses.retrieve(slow.id), NotFoundError, () => true);

console.log(`javascript sdk: ${passed} passed, 0 failed`);
