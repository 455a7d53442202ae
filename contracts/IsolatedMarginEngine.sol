// SPDX-License-Identifier: MIT
// Destination-chain engine: accepts a CREDIT only from the registered vault of its source chain,
// once per lockId, and adds it to the isolated position (trader, positionId). Trading comes later.
pragma solidity ^0.8.22;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {OApp, Origin} from "@layerzerolabs/oapp-evm/contracts/oapp/OApp.sol";
import {MarginMessages} from "./libraries/MarginMessages.sol";
import {IWormhole} from "./interfaces/IWormhole.sol";

contract IsolatedMarginEngine is OApp {
    struct CollateralConfig {
        uint8 decimals;
        bool allowed;
    }

    // ---------------------------------------------------------------- credit path (this issue)

    /// @notice EVM chain id of each registered source, by LayerZero endpoint id.
    mapping(uint32 => uint64) public chainIdOfEid;
    /// @notice LayerZero endpoint id of each registered source chain (for RELEASE/SEIZE back).
    mapping(uint64 => uint32) public eidOfChainId;
    /// @notice Accepted collateral per (source chain id, token on that chain).
    mapping(uint64 => mapping(address => CollateralConfig)) public collateralConfig;
    /// @notice lockIds already credited: the on-chain replay guard.
    mapping(bytes32 => bool) public processed;

    // Wormhole transport: the core contract, the trusted emitter (vault) per Wormhole chain id,
    // the EVM chain id behind it, and every VAA hash already consumed (each executes once).
    IWormhole public wormhole;
    mapping(uint16 => bytes32) public wormholeEmitters;
    mapping(uint16 => uint64) public chainIdOfWormhole;
    mapping(bytes32 => bool) public consumedVaas;
    /// @notice Credited amount per positionKey and collateralKey, in the token's own units.
    mapping(bytes32 => mapping(bytes32 => uint256)) public collateral;

    // ---------------------------------------------------------------- trading (next issue)
    // Declared now so that the storage layout is settled; nothing reads or writes it yet.

    struct Position {
        address trader;
        uint256 positionId;
        bytes32 market;
        int256 size; // > 0 long, < 0 short, 1e18 fixed point
        uint256 entryPrice; // 1e18 fixed point
        uint256 realizedFees;
        bool open;
    }

    struct Market {
        address priceFeed; // AggregatorV3Interface
        uint256 imrBps;
        uint256 mmrBps;
        bool enabled;
    }

    /// @notice By positionKey.
    mapping(bytes32 => Position) public positions;
    /// @notice By market id (e.g. keccak256("ETH-USD")).
    mapping(bytes32 => Market) public markets;
    /// @notice Nonce of the engine's last RELEASE/SEIZE; the first uses 1.
    uint64 public outboundNonce;
    /// @notice Receives seized losses.
    address public insuranceFund;
    /// @notice Pays profit beyond a position's collateral on this chain.
    address public settlementPool;

    error InvalidSource();
    error UnsupportedKind(uint8 kind);
    error OriginMismatch();
    error AlreadyProcessed(bytes32 lockId);
    error CollateralNotAllowed(uint64 srcChainId, address token);
    error InvalidVaa(string reason);
    error UnknownEmitter(uint16 emitterChainId, bytes32 emitterAddress);
    error VaaAlreadyConsumed(bytes32 vaaHash);

    event SourceRegistered(uint32 indexed lzEid, uint64 indexed chainId, address vault);
    event WormholeSourceRegistered(uint16 indexed wormholeChainId, uint64 indexed chainId, address vault);
    event WormholeSet(address indexed wormhole);
    event CollateralSet(uint64 indexed srcChainId, address indexed token, uint8 decimals, bool allowed);
    event PositionCredited(
        bytes32 indexed lockId,
        bytes32 indexed positionKey,
        address indexed trader,
        uint256 positionId,
        uint64 srcChainId,
        address token,
        uint256 amount,
        bytes32 transportId
    );

    constructor(address endpoint_, address owner_) OApp(endpoint_, owner_) Ownable(owner_) {}

    // ---------------------------------------------------------------- owner

    /// @notice Trusts `vault` as the only sender on `lzEid`, which is EVM chain `chainId`.
    function registerSource(uint32 lzEid, uint64 chainId, address vault) external onlyOwner {
        if (lzEid == 0 || chainId == 0 || vault == address(0)) revert InvalidSource();
        _setPeer(lzEid, bytes32(uint256(uint160(vault))));
        chainIdOfEid[lzEid] = chainId;
        eidOfChainId[chainId] = lzEid;
        emit SourceRegistered(lzEid, chainId, vault);
    }

    function setWormhole(address wormhole_) external onlyOwner {
        wormhole = IWormhole(wormhole_);
        emit WormholeSet(wormhole_);
    }

    /// @notice Trusts `vault` as the only Wormhole emitter of `wormholeChainId`, which is EVM chain `chainId`.
    function registerWormholeSource(uint16 wormholeChainId, uint64 chainId, address vault) external onlyOwner {
        if (wormholeChainId == 0 || chainId == 0 || vault == address(0)) revert InvalidSource();
        wormholeEmitters[wormholeChainId] = bytes32(uint256(uint160(vault)));
        chainIdOfWormhole[wormholeChainId] = chainId;
        emit WormholeSourceRegistered(wormholeChainId, chainId, vault);
    }

    function setCollateral(uint64 srcChainId, address token, uint8 decimals, bool allowed) external onlyOwner {
        collateralConfig[srcChainId][token] = CollateralConfig(decimals, allowed);
        emit CollateralSet(srcChainId, token, decimals, allowed);
    }

    // ---------------------------------------------------------------- views

    function isProcessed(bytes32 lockId) external view returns (bool) {
        return processed[lockId];
    }

    function positionKeyOf(address trader, uint256 positionId) public pure returns (bytes32) {
        return keccak256(abi.encode(trader, positionId));
    }

    function collateralKeyOf(uint64 srcChainId, address token) public pure returns (bytes32) {
        return keccak256(abi.encode(srcChainId, token));
    }

    function collateralOf(address trader, uint256 positionId, uint64 srcChainId, address token)
        external
        view
        returns (uint256)
    {
        return collateral[positionKeyOf(trader, positionId)][collateralKeyOf(srcChainId, token)];
    }

    // ---------------------------------------------------------------- receive

    // ---------------------------------------------------------------- Wormhole receive

    /// @notice Delivers a signed VAA (anyone may relay it): the guardians' signatures are checked by
    /// the core, the emitter must be the registered vault of its chain, and each VAA runs once.
    function receiveWormholeMessage(bytes calldata encodedVm) external {
        (IWormhole.VM memory vm, bool valid, string memory reason) = wormhole.parseAndVerifyVM(encodedVm);
        if (!valid) revert InvalidVaa(reason);
        bytes32 emitter = wormholeEmitters[vm.emitterChainId];
        if (emitter == bytes32(0) || emitter != vm.emitterAddress) revert UnknownEmitter(vm.emitterChainId, vm.emitterAddress);
        if (consumedVaas[vm.hash]) revert VaaAlreadyConsumed(vm.hash);
        consumedVaas[vm.hash] = true;
        _accept(chainIdOfWormhole[vm.emitterChainId], address(uint160(uint256(vm.emitterAddress))), vm.payload, vm.hash);
    }

    /// @dev OAppReceiver.lzReceive has already checked that the endpoint calls and that
    /// origin.sender is the peer of origin.srcEid; LayerZero has cleared the payload hash.
    function _lzReceive(
        Origin calldata origin,
        bytes32 guid,
        bytes calldata message,
        address, /* executor */
        bytes calldata /* extraData */
    ) internal override {
        _accept(chainIdOfEid[origin.srcEid], address(uint160(uint256(origin.sender))), message, guid);
    }

    /// @dev Both transports end here, with the chain and sender they authenticated.
    function _accept(uint64 srcChainId, address sender, bytes memory message, bytes32 transportId) private {
        MarginMessages.Message memory m = MarginMessages.decode(message);
        if (m.kind != MarginMessages.CREDIT) revert UnsupportedKind(m.kind);
        // The message names its origin; it must be the one the transport authenticated.
        if (srcChainId == 0 || m.originChainId != srcChainId || m.origin != sender) revert OriginMismatch();
        _credit(m, srcChainId, transportId);
    }

    /// @dev Split from _lzReceive to keep the stack shallow without viaIR.
    function _credit(MarginMessages.Message memory m, uint64 srcChainId, bytes32 transportId) private {
        bytes32 lockId = MarginMessages.messageId(srcChainId, m.origin, m.nonce);
        if (processed[lockId]) revert AlreadyProcessed(lockId);
        if (!collateralConfig[srcChainId][m.token].allowed) revert CollateralNotAllowed(srcChainId, m.token);

        processed[lockId] = true;
        bytes32 positionKey = positionKeyOf(m.trader, m.positionId);
        collateral[positionKey][collateralKeyOf(srcChainId, m.token)] += m.amount;

        emit PositionCredited(lockId, positionKey, m.trader, m.positionId, srcChainId, m.token, m.amount, transportId);
    }
}
