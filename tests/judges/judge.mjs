// The source tools' own code as judges of redirectware's importers (see
// tests/test_import_corpus.py): reads a list of requests for one source file and prints, as
// JSON, what the source tool answers to each: [status, Location] or null (no judge: the line
// uses something the tool's open code does not run, such as a Netlify country condition).
//
//   node judge.mjs netlify|vercel SOURCE REQUESTS.json > ANSWERS.json
//
// Netlify: @netlify/redirect-parser reads the file; Cloudflare Pages' handler
// (@cloudflare/pages-shared, the open implementation of Netlify's _redirects) answers, with
// no file on the site (every rule applies, as after the app's 404).
// Vercel: @vercel/routing-utils turns vercel.json into Vercel's routes; the routes before
// the filesystem step are applied in order as Vercel's router does (first route with a
// status wins; $1 and $name filled from the match, an unmatched group empty). routing-utils
// does not say what happens to the request's query: it is passed on, as Vercel's and
// Next.js' documentation for redirects say, joined after the destination's own.
import { readFileSync } from "node:fs";
import { parseAllRedirects } from "@netlify/redirect-parser";
import { createMetadataObject } from "@cloudflare/pages-shared/dist/metadata-generator/createMetadataObject.js";
import { generateHandler } from "@cloudflare/pages-shared/dist/asset-server/handler.js";
import { getTransformedRoutes } from "@vercel/routing-utils";

const [format, source, requestsFile] = process.argv.slice(2);
const requests = JSON.parse(readFileSync(requestsFile, "utf8"));

async function netlify() {
	const { redirects } = await parseAllRedirects({ redirectsFiles: [source], minimal: false });
	// What Cloudflare's own parser keeps: plain from/to/status rules (no conditions, query
	// conditions, signed proxies or custom headers), a status it knows.
	const kept = [];
	const judged = new Set();
	for (const redirect of redirects) {
		const plain =
			Object.keys(redirect.conditions || {}).length === 0 &&
			Object.keys(redirect.query || {}).length === 0 &&
			!redirect.signed &&
			Object.keys(redirect.headers || {}).length === 0 &&
			[200, 301, 302, 303, 307, 308].includes(redirect.status ?? 301);
		const from = redirect.origin ?? redirect.from ?? redirect.path;
		if (plain) {
			kept.push({ from, to: redirect.to, status: redirect.status ?? 301, lineNumber: kept.length + 1 });
			judged.add(from);
		}
	}
	const metadata = createMetadataObject({ redirects: { rules: kept, invalid: [] } });
	const one = async (method, url) => {
		const response = await generateHandler({
			request: new Request(url, { method, redirect: "manual" }),
			metadata,
			xServerEnvHeader: undefined,
			logError: () => {},
			findAssetEntryForPath: async () => null,
			getAssetKey: () => "",
			negotiateContent: () => ({ encoding: null }),
			fetchAsset: async () => ({ body: null, contentType: "text/plain" }),
			generateNotFoundResponse: async () => new Response("app", { status: 404 }),
		});
		return [response.status, response.headers.get("location")];
	};
	const answers = [];
	for (const [method, url] of requests) answers.push(await follow(one, method, url));
	return { answers, judged: [...judged] };
}

// The answer to a request, a chain of redirects on the same site followed to its end (as a
// client does; redirectware sends one redirect there): [first status, last Location, hops].
async function follow(one, method, url) {
	const first = await one(method, url);
	if (first === null || first[0] < 300 || first[0] >= 400 || !first[1]) return first;
	let [status, location] = first;
	let hops = 1;
	let current = new URL(location, url);
	// The host alone: redirectware follows a chain on to https on the same host.
	while (hops < 10 && current.hostname === new URL(url).hostname) {
		const next = await one("GET", current.href);
		if (next === null || next[0] < 300 || next[0] >= 400 || !next[1]) break;
		location = next[1];
		current = new URL(location, current.href);
		hops += 1;
	}
	return [status, location, hops];
}

async function vercel() {
	const config = JSON.parse(readFileSync(source, "utf8"));
	const { routes, error } = getTransformedRoutes(config);
	if (error) throw new Error(JSON.stringify(error));
	const before = [];
	for (const route of routes) {
		if (route.handle) break; // the filesystem step: redirects and trailingSlash come first
		before.push(route);
	}
	const one = (method, url) => {
		const parsed = new URL(url);
		let answer = [200, null];
		for (const route of before) {
			if (route.has || route.missing) {
				answer = null; // a condition the test does not send: no judge
				break;
			}
			const match = new RegExp(route.src).exec(parsed.pathname);
			if (!match) continue;
			if (!route.status) break; // a route without a status ends the phase (.well-known)
			let location = route.headers.Location.replace(/\$(\d+|[A-Za-z_]\w*)/g, (_, key) => {
				const value = /^\d+$/.test(key) ? match[Number(key)] : match.groups?.[key];
				return value ?? "";
			});
			if (parsed.search) {
				const [head, ...hash] = location.split("#");
				location = head + (head.includes("?") ? "&" : "?") + parsed.search.slice(1) +
					(hash.length ? "#" + hash.join("#") : "");
			}
			answer = [route.status, location];
			break;
		}
		return answer;
	};
	const answers = [];
	for (const [method, url] of requests) answers.push(await follow(one, method, url));
	return { answers, judged: null };
}

const result = format === "netlify" ? await netlify() : await vercel();
process.stdout.write(JSON.stringify(result) + "\n");
