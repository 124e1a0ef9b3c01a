/** The two databases Ordercast runs on: one queries file serves both, and this says which one a connection is. */
export type Dialect = 'sqlite' | 'postgres';
