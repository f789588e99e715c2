import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutesOf } from '../src/plugins/openapi/index.ts';
import { startStack, type Stack } from './support/stack.ts';

let s: Stack;

beforeAll(async () => {
  s = await startStack({ label: 'openapi' });
});

afterAll(async () => {
  await s?.close();
});

const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{*}');

describe('OpenAPI › /docs/json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const res = await fetch(`${s.publicUrl}/docs/json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('describes every /v1 route with every method, and no operator page', async () => {
    const doc = (await (await fetch(`${s.publicUrl}/docs/json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const v1 = apiRoutesOf(s.app).filter((r) => r.method !== 'HEAD');
    expect(new Set(v1.map((r) => r.url)).size).toBeGreaterThanOrEqual(11);
    for (const route of v1) {
      const described = doc.paths[toOpenApiPath(route.url)];
      expect(described, route.url).toBeDefined();
      expect(described![route.method.toLowerCase()], `${route.method} ${route.url}`).toBeDefined();
    }
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/admin') || p === '/metrics')).toEqual([]);
  });

  it('names the API-key scope of each authenticated operation', async () => {
    const doc = (await (await fetch(`${s.publicUrl}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { 'x-scope'?: string }>>;
    };
    expect(doc.paths['/v1/connections/{id}/access-token']!.get!['x-scope']).toBe('tokens:read');
    expect(doc.paths['/v1/connections/{id}']!.delete!['x-scope']).toBe('connections:write');
    expect(doc.paths['/v1/meetings/{id}']!.get!['x-scope']).toBe('meetings:read');
  });
});

describe('OpenAPI › /docs', () => {
  it('serves Swagger UI from this process, loading nothing from another host', async () => {
    const page = await fetch(`${s.publicUrl}/docs/static/index.html`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) expect(asset, asset).not.toMatch(/^(https?:)?\/\//);
    const bundle = await fetch(
      new URL(
        assets.find((a) => a.includes('swagger-ui-bundle'))!,
        page.url,
      ),
    );
    expect(bundle.status).toBe(200);
    await bundle.arrayBuffer();
    const root = await fetch(`${s.publicUrl}/docs`, { redirect: 'manual' });
    expect(root.status).toBeLessThan(400);
    await root.arrayBuffer();
  });
});
