import 'reflect-metadata';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { safeLoadAll } from 'js-yaml';
import { loadDirectoryConfig } from './directory.config';
import { loadGatewayConfig } from './gateway.config';
import { loadRelayConfig } from './relay.config';

/**
 * The Kubernetes manifests in deploy/ can't be applied here (no cluster), so they are checked
 * against the code instead: each service's environment must pass its config validation, ports
 * and probes must match, the key-holding services must share the keys volume at KEYS_DIR, and
 * the ingress must route every public path prefix of every controller to its service.
 */
const ROOT = join(__dirname, '..', '..', '..');
const K8S = join(ROOT, 'deploy', 'kubernetes');
type Doc = Record<string, any>;
const docs: Doc[] = readdirSync(K8S).flatMap((f) => safeLoadAll(readFileSync(join(K8S, f), 'utf8')).filter(Boolean) as Doc[]);
const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
const deployment = (component: string) => byKind('Deployment').find((d) => d.metadata.labels.component === component)!;

const SERVICES = [
  { component: 'prekey-directory', app: 'apps/prekey-directory', load: loadDirectoryConfig, needsKeys: true },
  { component: 'relay', app: 'apps/relay', load: loadRelayConfig, needsKeys: true },
  { component: 'federation-gateway', app: 'apps/federation-gateway', load: loadGatewayConfig, needsKeys: true },
];

function environmentOf(container: Doc): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    const doc = docs.find((d) => (d.kind === 'ConfigMap' || d.kind === 'Secret') && d.metadata.name === ref.name);
    expect(doc).toBeDefined();
    Object.assign(env, doc!.data ?? doc!.stringData);
  }
  for (const { name, value } of container.env ?? []) env[name] = value;
  return env;
}

/** The public path prefixes the service's HTTP controllers answer (bus-only and admin ones excluded). */
function controllerPaths(appDir: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else if (entry.name.endsWith('.controller.ts')) files.push(join(dir, entry.name));
    }
  };
  walk(join(ROOT, appDir, 'src'));
  const paths = files
    .flatMap((file) =>
      Object.values(require(file) as Record<string, unknown>)
        .filter((exported): exported is object => typeof exported === 'function')
        .map((cls) => Reflect.getMetadata('path', cls) as string | undefined),
    )
    .filter((path): path is string => typeof path === 'string' && path !== '/' && path !== '' && !path.startsWith('admin/'));
  return [...new Set(paths.map((p) => `/${p}`))];
}

describe('deploy/kubernetes manifests', () => {
  it.each(SERVICES)('$component: its environment passes config validation; ports, probes and service agree', ({ component, load }) => {
    const spec = deployment(component).spec.template.spec;
    const container = spec.containers[0];
    const config = load(environmentOf(container));
    expect(container.ports.map((p: Doc) => p.containerPort)).toEqual([config.port]);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/healthz', port: config.port });
    // Readiness is /healthz (able to serve); liveness /healthz/live, so an outage of Postgres or Redis unreadies pods without restarting them.
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz/live', port: config.port });
    expect(deployment(component).spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(config.port),
      'prometheus.io/path': '/metrics',
    });
    const service = byKind('Service').find((s) => s.metadata.name === `sealpost-${component}`)!;
    expect(service.spec.ports[0].targetPort).toBe(config.port);
    const entry = container.command.at(-1) as string;
    expect(existsSync(join(ROOT, entry.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
  });

  it.each(SERVICES.filter((s) => s.needsKeys))(
    '$component: every replica mounts the one shared keys volume at KEYS_DIR',
    ({ component, load }) => {
      const spec = deployment(component).spec.template.spec;
      const config = load(environmentOf(spec.containers[0]));
      const mount = spec.containers[0].volumeMounts.find((m: Doc) => m.mountPath === config.keysDir);
      expect(mount).toBeDefined();
      const volume = spec.volumes.find((v: Doc) => v.name === mount.name);
      const claim = byKind('PersistentVolumeClaim').find((c) => c.metadata.name === volume.persistentVolumeClaim.claimName)!;
      expect(claim.spec.accessModes).toEqual(['ReadWriteMany']);
      expect(spec.securityContext.fsGroup).toBe(1000);
    },
  );

  it('the ingress does not expose /metrics or the admin endpoints', () => {
    const routes = byKind('Ingress')[0].spec.rules[0].http.paths as Doc[];
    for (const hidden of ['/metrics', '/admin/federation/status', '/healthz']) {
      expect(routes.some((r) => hidden === r.path || (r.pathType === 'Prefix' && hidden.startsWith(`${r.path}/`)))).toBe(false);
    }
  });

  it('the ingress routes every public path of every service to that service', () => {
    const routes = byKind('Ingress')[0].spec.rules[0].http.paths as Doc[];
    for (const { component, app } of SERVICES) {
      const paths = controllerPaths(app);
      if (component === 'relay') paths.push('/v1/websocket', '/v1/websocket/unidentified', '/v1/provisioning/websocket');
      expect(paths.length).toBeGreaterThan(0);
      for (const path of paths) {
        const route = routes.find((r) => path === r.path || (r.pathType === 'Prefix' && path.startsWith(`${r.path}/`)));
        expect({ path, service: route?.backend.service.name }).toEqual({ path, service: `sealpost-${component}` });
      }
    }
  });
});
