// Creates the services' roles and users of roles.json in MONGO_DB, or brings them up to date
// when they exist (updateRole / updateUser): safe to run again, e.g. after a password change.
//
// docker compose: the mongo image runs /docker-entrypoint-initdb.d/*.js once, at the first
// start on an empty volume, as the root user (it ignores roles.json, which this script reads).
// Kubernetes: the mongo-init-replica-set Job runs it against the primary (MONGO_INIT_DIR=/scripts).
// Passwords come from the environment (MONGO_<SERVICE>_PASSWORD): a missing one fails the run
// rather than creating a user nobody can log in as.
const fs = require('fs');

const dir = process.env.MONGO_INIT_DIR || '/docker-entrypoint-initdb.d';
const spec = JSON.parse(fs.readFileSync(`${dir}/roles.json`, 'utf8'));
const dbName = process.env.MONGO_DB || 'sla_monitor';
const target = db.getSiblingDB(dbName);

for (const [user, def] of Object.entries(spec.users)) {
  if (!process.env[def.passwordEnv]) {
    throw new Error(`${def.passwordEnv} is not set: no password for the MongoDB user ${user}`);
  }
}

for (const [name, role] of Object.entries(spec.roles)) {
  const privileges = role.privileges.map((p) => ({
    resource: {db: dbName, collection: p.collection},
    actions: p.actions,
  }));
  if (target.getRole(name)) {
    target.updateRole(name, {privileges, roles: []});
    print(`role ${dbName}.${name} updated`);
  } else {
    target.createRole({role: name, privileges, roles: []});
    print(`role ${dbName}.${name} created`);
  }
}

for (const [user, def] of Object.entries(spec.users)) {
  const pwd = process.env[def.passwordEnv];
  const roles = [{role: def.role, db: dbName}];
  if (target.getUser(user)) {
    target.updateUser(user, {pwd, roles});
    print(`user ${dbName}.${user} updated`);
  } else {
    target.createUser({user, pwd, roles});
    print(`user ${dbName}.${user} created`);
  }
}
