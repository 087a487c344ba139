/** How an RTD discriminator reads its generator's embedding tables (SPEC B.6): gdes | es | nes. */
export const EMBEDDING_SHARING = ['gdes', 'es', 'nes'] as const
export type EmbeddingSharing = (typeof EMBEDDING_SHARING)[number]
