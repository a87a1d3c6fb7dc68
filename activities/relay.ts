import { createHash } from 'node:crypto';
import { pipeline, Transform } from 'node:stream';
import type { RelayActivities } from '../workflows/landing-sensor.workflow.js';
import { cancellationSignal, heartbeat } from './activity-context.js';
import { lakeKeys } from './lake-layout.js';
import { landingPrefix } from './landing-names.js';
import { ObjectNotFoundError, type ObjectInfo, type ObjectStore } from './storage/object-store.js';

/** What the landing relay needs: the plant's landing folder, the lake, and where the cloud's sensor looks. */
export interface RelayDeps {
  landing: ObjectStore;
  lake: ObjectStore;
  /** The cloud's landing area (`FABRICA_LANDING_RELAY`); absent: landing and sensor share one area, nothing to relay. */
  relay?: ObjectStore;
}

/** The name of a relayed-version marker: a landing key and its version tag (etag) together. */
function versionHash(o: ObjectInfo): string {
  return createHash('sha256').update(`${o.key}\u0000${o.etag}`).digest('hex');
}

/**
 * The landing relay, run by an edge worker before each sensor scan of a pipeline whose landing folder is on the
 * plant's network. A landed object version (key and etag) is copied under the same key into the cloud's landing area,
 * then a marker named by the version is written in the lake, so a pass copies only new versions: a file still being
 * written is copied again when it grows (the sensor there judges completeness, as for any landing area), a re-sent
 * file is copied as its new version. Marker files of `completeWhen: marker` sources are copied after the files they
 * mark. Each copy is one atomic put, hashed on the way (the SHA-256 is in the marker): the sensor never sees a
 * partial copy, and a pass cut off anywhere is completed by the next one.
 */
export function createRelayActivities(deps: RelayDeps): RelayActivities {
  return {
    async relayLanding({ spec }) {
      const relay = deps.relay;
      if (!relay) return { relayed: 0, listed: 0 };
      const done = new Set<string>();
      for await (const m of deps.lake.list(lakeKeys.relayedPrefix(spec.id))) done.add(m.key);
      const prefix = landingPrefix(spec.source);
      const pattern = new RegExp(spec.source.fileNamePattern);
      const suffix = spec.source.completeWhen.kind === 'marker' ? spec.source.completeWhen.suffix : undefined;
      const files: { o: ObjectInfo; marker: string }[] = [];
      const markers: { o: ObjectInfo; marker: string }[] = [];
      let listed = 0;
      for await (const o of deps.landing.list(prefix)) {
        const name = o.key.slice(prefix.length);
        const isMarker = suffix !== undefined && name.endsWith(suffix) && pattern.test(name.slice(0, -suffix.length));
        if (!isMarker && !pattern.test(name)) continue;
        listed++;
        const marker = lakeKeys.relayed(spec.id, versionHash(o));
        if (!done.has(marker)) (isMarker ? markers : files).push({ o, marker });
      }
      let relayed = 0;
      for (const { o, marker } of [...files, ...markers]) {
        let body;
        try {
          body = await deps.landing.get(o.key);
        } catch (err) {
          if (err instanceof ObjectNotFoundError) continue; // removed since it was listed
          throw err;
        }
        const hash = createHash('sha256');
        const hashing = new Transform({
          transform(chunk: Buffer, _enc, next) {
            hash.update(chunk);
            next(null, chunk);
          },
        });
        const signal = cancellationSignal();
        signal.throwIfAborted();
        // pipeline() destroys the hashing stream with the landing read's error, so the put rejects rather than hangs.
        const { size } = await relay.put(
          o.key,
          pipeline(body, hashing, () => undefined),
        );
        await deps.lake.put(
          marker,
          JSON.stringify({ key: o.key, etag: o.etag, size, sha256: hash.digest('hex'), relayedAt: new Date() }),
          { contentType: 'application/json' },
        );
        relayed++;
        heartbeat({ relayed });
      }
      return { relayed, listed };
    },
  };
}
