// The five seed schemas shipped in runcomfy_nb/schemas/, turned into FieldSpecs the way
// runcomfy_nb.schemas.describe_fields does (a small mirror, so the JS tests need no Python).

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../runcomfy_nb/schemas");
const TYPE_ALIASES = { float: "number", double: "number", int: "integer", bool: "boolean", str: "string", dict: "object", list: "array" };
const MEDIA_KEY = /(?:^|_)(image|video|audio)(?:_(?:url|uri))?s?$/;

/** @returns {Array<{model_id: string, display_name: string, fields: any[], defaults: Record<string, any>}>} */
export function seedModels() {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => {
      const entry = JSON.parse(readFileSync(path.join(dir, f), "utf8"));
      const fields = describeFields(entry.input_schema);
      const defaults = Object.fromEntries(fields.filter((x) => "default" in x).map((x) => [x.key, x.default]));
      return { model_id: entry.model_id, display_name: entry.display_name, fields, defaults };
    });
}

function describeFields(schema) {
  const required = new Set(schema.required || []);
  return Object.entries(schema.properties || {}).map(([key, prop]) => {
    const type = TYPE_ALIASES[prop.type] || prop.type;
    const title = String(prop.title || "").trim();
    const field = { key, label: title && title !== key ? title : key, description: String(prop.description || ""), required: required.has(key) };
    // A required text/media field's default is the schema's example: a placeholder, not a value.
    const media0 = ["string", "array", undefined].includes(type) ? MEDIA_KEY.exec(key.toLowerCase()) : null;
    if ("default" in prop) {
      if (field.required && typeof prop.default === "string" && (media0 || type === "string") && !prop.enum) {
        if (prop.default) field.example = prop.default;
      } else field.default = prop.default;
    }
    if ("minimum" in prop) field.minimum = prop.minimum;
    if ("maximum" in prop) field.maximum = prop.maximum;
    if ("maxLength" in prop) field.max_length = prop.maxLength;
    const media = ["string", "array", undefined].includes(type) ? MEDIA_KEY.exec(key.toLowerCase()) : null;
    if (prop.enum) Object.assign(field, { kind: "enum", choices: [...prop.enum] });
    else if (media) Object.assign(field, { kind: "media", media: media[1] });
    else if (type === "integer" && /(^|_)seed$/.test(key)) field.kind = "seed";
    else if (["integer", "number", "boolean"].includes(type)) field.kind = type;
    else if (["object", "array"].includes(type)) field.kind = "json";
    else Object.assign(field, { kind: "text", multiline: key.toLowerCase().includes("prompt") || (prop.maxLength || 0) > 200 });
    return field;
  });
}
