# Quartile, all roles in one process, against the services named by the QUARTILE_*
# environment variables (see docker-compose.yml).
#   docker build -t quartile . && docker run -p 8080:8080 quartile
FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, in their own layer, so editing the source does not reinstall them.
# tsx is a runtime dependency: the engine runs its TypeScript directly (bin/quartile.js).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY . .
# Code stays root-owned (read-only to the service); the service user may only create
# files in /app itself (e.g. a local state dir).
RUN chown node:node /app
USER node

EXPOSE 8080
CMD ["node", "bin/quartile.js", "start", "--role", "all"]
