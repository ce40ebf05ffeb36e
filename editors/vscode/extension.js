// Starts `rewardc lsp` for .reward files: diagnostics as you type, hover, completion,
// go to definition, references, document symbols and formatting come from the server.
// Plain JavaScript: no build step (`npm install && npx vsce package` makes the .vsix).
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace
    .getConfiguration("rewardlang")
    .get("server.command", ["rewardc", "lsp"]);
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient(
    "rewardlang",
    "rewardlang",
    { run: server, debug: server },
    { documentSelector: [{ language: "reward" }] },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
