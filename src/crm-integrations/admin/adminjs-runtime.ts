import type { PropertyType } from 'adminjs';
import { esmImport } from '../../common/esm-import';

/** The `adminjs` package as loaded at run time (its types resolve from this CommonJS build, its code does not). */
export type AdminJsModule = typeof import('adminjs');

/** The part of @adminjs/mikroorm we use; its types sit behind `exports` that node10 resolution cannot read. */
export interface AdminJsMikroOrmModule {
  Database: { isAdapterFor(orm: unknown): boolean };
  Resource: { isAdapterFor(args: unknown): boolean };
  /** MikroORM column type → AdminJS property type. */
  DATA_TYPES: Record<string, PropertyType | undefined>;
}

/** The part of adminjs/bundler we use to bundle custom components once instead of watching them. */
interface AdminJsBundlerModule {
  componentsBundler: { createEntry(options: { content: string }): Promise<void>; build(): Promise<void> };
  generateUserComponentEntry(admin: unknown, tmpDir: string): string;
  ADMIN_JS_TMP_DIR: string;
}

export interface AdminJsRuntime {
  adminjs: AdminJsModule;
  mikroOrm: AdminJsMikroOrmModule;
}

let loading: Promise<AdminJsRuntime> | undefined;

/**
 * Loads AdminJS and its MikroORM adapter (both ESM-only) with a real `import()`, and registers the adapter once,
 * so a host's own MikroORM entities work as plain `{ resource: { model, orm } }` beside ours.
 */
export function loadAdminJs(): Promise<AdminJsRuntime> {
  loading ??= (async () => {
    // One after the other: Jest's ESM loader fails ("not in cache") on parallel imports of a shared module graph.
    const adminjs = await esmImport<AdminJsModule>('adminjs');
    const mikroOrm = await esmImport<AdminJsMikroOrmModule>('@adminjs/mikroorm');
    const registered =
      (globalThis as { RegisteredAdapters?: Array<{ Resource: unknown }> }).RegisteredAdapters ?? [];
    if (!registered.some((adapter) => adapter.Resource === mikroOrm.Resource)) {
      adminjs.default.registerAdapter({
        Database: mikroOrm.Database as never,
        Resource: mikroOrm.Resource as never,
      });
    }
    return { adminjs, mikroOrm };
  })();
  return loading;
}

/**
 * AdminJS outside production starts a rollup *watcher* on its component bundle (`admin.watch()`, which
 * @adminjs/nestjs calls), and that watcher keeps the process alive after the app closes. Our components do not
 * change while a service runs, so this makes `watch()` bundle once (what production's `initialize()` does) and
 * return. Call it before the AdminJS instance is created; a host decides for its own process.
 */
export async function useOneShotComponentBundling(): Promise<void> {
  const { adminjs } = await loadAdminJs();
  const bundler = await esmImport<AdminJsBundlerModule>('adminjs/bundler');
  const prototype = adminjs.default.prototype as { watch(): Promise<undefined> };
  prototype.watch = async function bundleOnce(this: unknown): Promise<undefined> {
    if (process.env.NODE_ENV === 'production') return undefined;
    // @adminjs/nestjs does not await watch(): a failure must be reported here, not become an unhandled rejection.
    try {
      await bundler.componentsBundler.createEntry({
        content: bundler.generateUserComponentEntry(this, bundler.ADMIN_JS_TMP_DIR),
      });
      await bundler.componentsBundler.build();
    } catch (error) {
      console.error('AdminJS: bundling custom components failed:', error);
    }
    return undefined;
  };
}
