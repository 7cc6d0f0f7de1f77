// Validates rendered Kubernetes YAML (stdin or argv[2]) offline with the npm package
// kubernetes-models: every object against its API schema, and, since those schemas accept
// unknown fields, every key the schema's validator never read is reported as unknown
// (a misspelt `readinessProbe`, `resource:` for `resources:` ...). Exit 1 on any problem.
// Run: Q8_NPM_DIR=<dir with node_modules/{kubernetes-models,yaml}> node validate.cjs [FILE]
"use strict";
const { readFileSync } = require("node:fs");
const { createRequire } = require("node:module");

const npm = createRequire(process.env.Q8_NPM_DIR + "/package.json");
const { parseAllDocuments } = npm("yaml");
const text = readFileSync(process.argv[2] ?? 0, "utf8");

// apiVersion + kind → schema module, e.g. apps/v1 Deployment → IoK8sApiAppsV1Deployment.
function schemaFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["core", apiVersion];
  const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  const g = group.replace(/\.k8s\.io$/, "").split(".").map(cap).join("");
  const name = `IoK8sApi${g}${cap(version)}${kind}`;
  try {
    // Absolute path: the package's "exports" hide _schemas/ from bare specifiers.
    return require(`${process.env.Q8_NPM_DIR}/node_modules/kubernetes-models/_schemas/${name}.js`)
      .validate;
  } catch {
    return null;
  }
}

// Wraps plain objects so that every property the validator reads is recorded.
function track(value, path, read, objects) {
  if (Array.isArray(value)) return value.map((v, i) => track(v, `${path}/${i}`, read, objects));
  if (value === null || typeof value !== "object") return value;
  const inner = {};
  for (const [k, v] of Object.entries(value)) inner[k] = track(v, `${path}/${k}`, read, objects);
  objects.push([path, inner]);
  return new Proxy(inner, {
    get(t, k) {
      if (typeof k === "string") read.add(`${path}/${k}`);
      return t[k];
    },
  });
}

let problems = 0;
let count = 0;
for (const doc of parseAllDocuments(text)) {
  if (doc.errors.length) {
    console.error(`YAML: ${doc.errors[0].message}`);
    problems++;
    continue;
  }
  const obj = doc.toJS();
  if (obj == null) continue;
  count++;
  const id = `${obj.kind}/${obj.metadata?.name}`;
  const validate = schemaFor(obj.apiVersion ?? "", obj.kind ?? "");
  if (!validate) {
    console.error(`${id}: no schema for apiVersion '${obj.apiVersion}' kind '${obj.kind}'`);
    problems++;
    continue;
  }
  const read = new Set();
  const objects = [];
  const ok = validate(track(obj, "", read, objects));
  const errors = ok ? [] : validate.errors.map((e) => `${e.instancePath || "/"} ${e.keyword} ${JSON.stringify(e.params)}`);
  // Unknown keys, reported once at the outermost one (its children were never read either).
  const unknown = [];
  for (const [path, o] of objects.reverse()) {
    for (const k of Object.keys(o)) {
      const p = `${path}/${k}`;
      if (!read.has(p) && !unknown.some((u) => p.startsWith(u + "/"))) {
        unknown.push(p);
      }
    }
  }
  for (const p of unknown) errors.push(`${p} unknown field`);
  if (errors.length) {
    problems += errors.length;
    for (const e of errors) console.error(`${id}: ${e}`);
  } else {
    console.log(`ok  ${obj.apiVersion} ${id}`);
  }
}
if (count === 0) {
  console.error("no objects");
  problems++;
}
console.log(`${count} objects, ${problems} problems`);
process.exit(problems ? 1 : 0);
