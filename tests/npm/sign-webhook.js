// Signs a request as a payment terminal vendor would, with the Standard Webhooks reference
// library: node sign-webhook.js SECRET MESSAGE_ID UNIX_SECONDS BODY_FILE
// prints the webhook-signature header value ("v1,<base64>").
const fs = require("fs");
const { Webhook } = require("standardwebhooks");

const [secret, id, seconds, bodyFile] = process.argv.slice(2);
const body = fs.readFileSync(bodyFile, "utf8");
const wh = new Webhook(secret);
process.stdout.write(wh.sign(id, new Date(Number(seconds) * 1000), body));
