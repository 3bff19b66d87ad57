// A tiny fleetgate client on the types graphql-codegen generates into gql/:
// sign up, then read `me` with the session token. Run `npm run codegen`
// first; `npm run check` type-checks it.
import type { TypedDocumentString } from "./gql/graphql";
import { ApplicationsDocument, MeDocument, SignUpDocument } from "./gql/graphql";

type GraphQLError = { message: string; extensions?: { code?: string; field?: string } };

// request posts one typed operation to /graphql; every error carries
// extensions.code (README "Errors").
export async function request<Result, Variables>(
  endpoint: string,
  document: TypedDocumentString<Result, Variables>,
  variables: Variables,
  token?: string,
): Promise<Result> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(endpoint, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: document.toString(), variables }),
  });
  const body = (await response.json()) as { data?: Result | null; errors?: GraphQLError[] };
  if (body.errors?.length || !body.data) {
    const e = body.errors?.[0];
    throw new Error(`${e?.extensions?.code ?? response.status}: ${e?.message ?? "no data"}`);
  }
  return body.data;
}

export async function main(endpoint = "http://127.0.0.1:8080/graphql"): Promise<void> {
  const { signUp } = await request(endpoint, SignUpDocument, {
    input: { username: "alice", email: "alice@example.com", password: "correct horse battery staple" },
  });
  const { me } = await request(endpoint, MeDocument, {}, signUp.token);
  const createdAt: Date = new Date(me.createdAt); // Time is an RFC 3339 string
  console.log(me.username, me.email ?? "(hidden)", createdAt.toISOString());

  // Page through applications: an absent cursor (undefined) is the first page.
  let after: string | undefined;
  do {
    const { applications } = await request(endpoint, ApplicationsDocument, { first: 50, after }, signUp.token);
    for (const edge of applications.edges ?? []) {
      if (edge?.node) console.log(edge.node.slug, edge.node.myRole);
    }
    after = applications.pageInfo.hasNextPage ? (applications.pageInfo.endCursor ?? undefined) : undefined;
  } while (after);
}
