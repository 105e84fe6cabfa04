# fedgate container image.
#   docker build -t fedgate .
#   docker run -p 8080:8080 -v /etc/fedgate:/etc/fedgate:ro -v fedgate-data:/var/lib/fedgate \
#     -e FEDGATE_LDAP_PASSWORD=... fedgate
# The configuration is read from /etc/fedgate/fedgate.yaml (see examples/fedgate.yaml); set
# `server.listen: 0.0.0.0:8080` (the default 127.0.0.1 is unreachable from outside the container)
# and `dataDir: /var/lib/fedgate` in it. The health check speaks plain HTTP: terminate TLS in
# front of the container rather than with server.tls. A Kerberos keytab (authn.kerberos.keytab)
# must be readable by uid 10001: check it with
#   docker run --rm -v /etc/fedgate:/etc/fedgate:ro fedgate kerberos-check --config /etc/fedgate/fedgate.yaml

# ---- build: compile TypeScript, then drop the dev dependencies ----
FROM node:20-bookworm-slim AS build
# The native `kerberos` module (SPNEGO sign-in) compiles here with node-gyp: it needs a compiler,
# python3 and the GSSAPI headers (its prebuilt binaries are not downloaded).
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ libkrb5-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# ---- runtime: only what `fedgate serve` reads ----
FROM node:20-bookworm-slim
# The GSSAPI library the `kerberos` module links against (without it fedgate runs with Kerberos
# reported unavailable). klist (krb5-user) is left out: `fedgate kerberos-check` says so and
# checks the rest.
RUN apt-get update && apt-get install -y --no-install-recommends libgssapi-krb5-2 \
    && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
RUN groupadd --system --gid 10001 fedgate \
    && useradd --system --uid 10001 --gid fedgate --home-dir /var/lib/fedgate --no-create-home --shell /usr/sbin/nologin fedgate \
    && mkdir -p /var/lib/fedgate /etc/fedgate \
    && chown fedgate:fedgate /var/lib/fedgate \
    && chmod 0700 /var/lib/fedgate
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY views ./views
COPY examples/demo-users.yaml ./examples/demo-users.yaml
USER 10001:10001
VOLUME ["/var/lib/fedgate"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/fedgate.js"]
CMD ["serve", "--config", "/etc/fedgate/fedgate.yaml"]
