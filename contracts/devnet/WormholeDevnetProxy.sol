// SPDX-License-Identifier: MIT
// Devnet only: the ERC-1967 proxy in front of the Wormhole core. Its first implementation is
// WormholeDevnetSetup, delegatecalled from this constructor with the `setup` call data.
pragma solidity ^0.8.22;

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

contract WormholeDevnetProxy is ERC1967Proxy {
    constructor(address setupImplementation, bytes memory setupCall) ERC1967Proxy(setupImplementation, setupCall) {}
}
