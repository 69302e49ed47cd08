// Rules the compose stack and the Kubernetes manifests share, so the two cannot drift apart.

/** Names that look like secrets: such a variable must arrive from a mounted file, never as a plain value. */
export const SECRET_NAME = /SECRET|TOKEN|KEY|PASSWORD|CREDENTIAL/;

/** Whether a value, or any part of a comma-separated list of them (broker lists), is a URL carrying a password. */
export function urlWithPassword(value: string): boolean {
  return value.split(',').some((part) => {
    try {
      return new URL(part.trim()).password !== '';
    } catch {
      return false;
    }
  });
}

/** An image reference's tag (`name:tag`, a registry port not mistaken for one), or undefined when it has none. */
export function imageTag(image: string): string | undefined {
  const lastPart = image.split('/').at(-1) ?? '';
  return lastPart.includes(':') ? lastPart.split(':').at(-1) : undefined;
}
