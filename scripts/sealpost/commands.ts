import type { Command } from './command';
import { approveCommand } from './approve.command';
import { devicesCommand } from './devices.command';
import { keysCommand } from './keys.command';
import { linkCommand } from './link.command';
import { listenCommand } from './listen.command';
import { registerCommand } from './register.command';
import { removeDeviceCommand } from './remove-device.command';
import { sendCommand } from './send.command';
import { verifyCommand } from './verify.command';

export const COMMANDS: Command[] = [
  registerCommand,
  linkCommand,
  approveCommand,
  sendCommand,
  listenCommand,
  devicesCommand,
  removeDeviceCommand,
  verifyCommand,
  keysCommand,
];
