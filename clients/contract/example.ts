// A typed client of wordspace, from openapi.yaml alone: the types come from
// `openapi-typescript openapi.yaml -o schema.d.ts`, the calls from openapi-fetch.
// It compiles under `tsc --strict` with no casts (tests/test_clients.py checks it).
// Run: node out/example.js http://localhost:8000
// Prints one line per response (for the test to validate against the contract), then
// a summary line starting with "SUMMARY ".
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Problem = components["schemas"]["Problem"];

const baseUrl = process.argv[2] ?? "http://localhost:8000";
const client = createClient<paths>({ baseUrl });

// Every answer, as the contract's path template, method, status, media type and body.
client.use({
  async onResponse({ request, response, schemaPath }) {
    const type = response.headers.get("content-type") ?? "";
    const body: unknown = type.includes("json") ? await response.clone().json() : null;
    console.log(JSON.stringify({ path: schemaPath, method: request.method, status: response.status,
                                 type, body }));
    return undefined;
  },
});

async function main(): Promise<void> {
  // The spaces, and a task space's own test accuracy (details.test_accuracy).
  const spaces = await client.GET("/v1/spaces");
  if (!spaces.data) throw new Error(`GET /v1/spaces: ${spaces.error?.detail}`);
  const task = spaces.data.spaces.find((s) => s.details?.test_accuracy !== undefined);
  const word = spaces.data.spaces.find((s) => s.kind !== "task") ?? spaces.data.spaces[0];
  if (!task || !word) throw new Error("no task space, or no space at all");
  const accuracy: number | undefined = task.details?.test_accuracy;

  // Which space to use for what: the verdict.
  const verdict = await client.GET("/v1/compare/verdict");
  if (!verdict.data) throw new Error(`GET /v1/compare/verdict: ${verdict.error?.detail}`);
  const sentence: string = verdict.data.sentence;

  // Neighbours, and a similarity with its rank (a boolean query parameter).
  const near = await client.GET("/v1/spaces/{space}/neighbors", {
    params: { path: { space: word.name }, query: { word: "good", k: 3 } },
  });
  const first: string | undefined = near.data?.neighbors[0]?.word;
  const similar = await client.GET("/v1/spaces/{space}/similarity", {
    params: { path: { space: word.name }, query: { a: "good", b: "bad", rank: true } },
  });
  const rank: number | undefined = similar.data?.rank;
  const batch = await client.POST("/v1/spaces/{space}/neighbors", {
    params: { path: { space: word.name } },
    body: { words: ["good", "zzzqqq"], k: 2 },
  });
  const found: boolean[] = (batch.data?.results ?? []).map((r) => r.found ?? true);

  // An error is a problem (RFC 9457) whose detail says what is wrong.
  const unknown = await client.GET("/v1/spaces/{space}/neighbors", {
    params: { path: { space: word.name }, query: { word: "zzzqqq" } },
  });
  const problem: Problem | undefined = unknown.error;
  const badK = await client.GET("/v1/spaces/{space}/neighbors", {
    params: { path: { space: word.name }, query: { word: "good", k: 0 } },
  });

  console.log("SUMMARY " + JSON.stringify({
    task: task.name, test_accuracy: accuracy, verdict: sentence, neighbor: first, rank,
    found, unknown_status: unknown.response.status, unknown_detail: problem?.detail,
    bad_k_detail: badK.error?.detail,
  }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
