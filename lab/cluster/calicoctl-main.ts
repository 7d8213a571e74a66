// Entry point of lab/cluster/bin/calicoctl.
import { Calicoctl } from './calicoctl.ts';
import { main } from './cli-main.ts';

await main((io, argv) => new Calicoctl(io).run(argv));
