import { Args, Command, loadHelpClass } from '@oclif/core';

/** `shake help [COMMAND]`: the same text as `shake [COMMAND] --help` (oclif's own help, without its plugin). */
export default class Help extends Command {
  static override summary = 'Show help for shake, or for one of its subcommands.';
  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help restore'];
  static override strict = false;
  static override args = {
    command: Args.string({ required: false, description: 'the subcommand (decode, restore, dump, sync, rump)' }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(Help);
    const HelpClass = await loadHelpClass(this.config);
    await new HelpClass(this.config).showHelp(argv as string[]);
  }
}
