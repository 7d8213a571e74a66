// Entry point of lab/cluster/bin/kubectl.
import { main } from './cli-main.ts';
import { Kubectl } from './kubectl.ts';

await main((io, argv) => new Kubectl(io).run(argv));
