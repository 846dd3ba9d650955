# shake in a container: configured by environment variables alone (SHAKE_<SECTION>_<KEY>, docs/configuration.md),
# `shake` as the entry point, run as the unprivileged `node` user. State (sync's checkpoint and spool, dump files)
# goes to /data: mount a volume there. See docs/container.md.
#   docker build -t shake .
#   docker run --rm -v shake-state:/data -e SHAKE_SOURCE_URL=redis://10.0.0.5:6379 \
#     -e SHAKE_TARGET_URL=redis://10.0.0.9:6379 -e SHAKE_TARGET_PASSWORD=... shake sync

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY packages ./packages
RUN npm ci --no-audit --no-fund
COPY src ./src
COPY bin ./bin
COPY scripts/bundle.mjs ./scripts/bundle.mjs
COPY conf ./conf
# the build bundles each subcommand (start-up); the first run writes oclif.manifest.json (command discovery
# without importing every command)
RUN npm run build \
  && node bin/run.js --version \
  && npm prune --omit=dev --no-audit --no-fund

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/oclif.manifest.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/packages ./packages
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/conf ./conf
RUN mkdir -p /data && chown node:node /data
USER node
WORKDIR /data
ENTRYPOINT ["node", "/app/bin/run.js"]
CMD ["--help"]
