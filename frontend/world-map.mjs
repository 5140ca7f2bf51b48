// The dashboard's world map, drawn once at build time: every country of Natural Earth's
// 1:110m map (npm world-atlas, public domain data) projected with d3-geo's Equal Earth
// projection (areas stay comparable) into SVG path data keyed by ISO 3166-1 alpha-2 code.
// The server colours these paths per dashboard view; the browser runs no map code.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { geoEqualEarth, geoPath } from "d3-geo";
import { feature } from "topojson-client";
import countries from "i18n-iso-countries";

const require = createRequire(import.meta.url);
const WIDTH = 960;
const HEIGHT = 470;

export function writeWorldMap(outDir) {
  const topology = JSON.parse(readFileSync(require.resolve("world-atlas/countries-110m.json"), "utf8"));
  const world = feature(topology, topology.objects.countries);
  // Antarctica takes a fifth of the picture and holds no participants.
  world.features = world.features.filter((f) => f.id !== "010");
  const projection = geoEqualEarth().fitSize([WIDTH, HEIGHT], world);
  const path = geoPath(projection).digits(0);
  const shapes = {};
  for (const f of world.features) {
    const code = f.id && countries.numericToAlpha2(f.id);
    const d = path(f);
    if (!d) continue;
    // A few territories have no ISO code in the atlas (e.g. Kosovo, N. Cyprus): kept as land.
    const key = code || `_${f.properties.name}`;
    shapes[key] = (shapes[key] ? shapes[key] : "") + d;
  }
  // The shapes, for the server to inline the countries it colours (a few KB a page) ...
  writeFileSync(join(outDir, "world-map.json"), JSON.stringify({ width: WIDTH, height: HEIGHT, countries: shapes }));
  // ... over this base map of every country, one cached image (presentation attributes only:
  // an SVG used as an image takes no stylesheet).
  const land = Object.values(shapes).map((d) => `<path d="${d}"/>`).join("");
  writeFileSync(join(outDir, "world-map.svg"),
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}">` +
    `<g fill="#dfe4ea" stroke="#ffffff" stroke-width="0.5">${land}</g></svg>`);
  return Object.keys(shapes).length;
}
