/** Injection token of the directory's typed, validated config. */
export const DIRECTORY_CONFIG = Symbol('DIRECTORY_CONFIG');
