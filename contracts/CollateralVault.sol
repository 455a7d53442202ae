// SPDX-License-Identifier: MIT
// Source-chain vault: takes a trader's collateral, gives it a lockId from its own nonce and sends a
// CREDIT to the destination engine through the route's transport (LayerZero v2 or Wormhole).
pragma solidity ^0.8.22;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {OApp, Origin, MessagingFee} from "@layerzerolabs/oapp-evm/contracts/oapp/OApp.sol";
import {MarginMessages} from "./libraries/MarginMessages.sol";
import {LzOptions} from "./libraries/LzOptions.sol";
import {IWormhole} from "./interfaces/IWormhole.sol";

contract CollateralVault is OApp, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint8 public constant TRANSPORT_LAYERZERO = 1;
    uint8 public constant TRANSPORT_WORMHOLE = 2;

    struct Route {
        uint8 transport;
        uint32 lzEid;
        uint128 lzReceiveGas;
        /// @dev Wormhole: how final the source block must be before guardians sign (1 = finalized).
        uint8 wormholeConsistency;
        bool enabled;
    }

    /// @notice Route per destination EVM chain id.
    mapping(uint64 => Route) public routes;
    mapping(address => bool) public tokenAllowed;
    /// @notice Per-lock cap per token; 0 means no cap.
    mapping(address => uint256) public maxLock;
    bool public paused;
    /// @notice The Wormhole core of this chain, for routes whose transport is Wormhole.
    IWormhole public wormhole;
    /// @notice Receives seized collateral.
    address public insuranceFund;
    /// @notice The engine that sends RELEASE and SEIZE: its EVM chain id, address and Wormhole chain id.
    uint64 public engineChainId;
    address public engine;
    uint16 public engineWormholeChain;
    /// @notice Wormhole VAA hashes already executed.
    mapping(bytes32 => bool) public consumedVaas;

    /// @notice Nonce of the last lock; the first lock uses 1. Gaps are how the relayer detects
    /// missed logs, so it only ever increments by one.
    uint64 public nonce;
    /// @notice Collateral locked and not yet released or seized, per token.
    mapping(address => uint256) public outstanding;
    /// @notice RELEASE/SEIZE message ids already executed: the return path's replay guard.
    mapping(bytes32 => bool) public executed;

    error Paused();
    error TokenNotAllowed(address token);
    error ZeroLockAmount();
    error LockAboveCap(address token, uint256 amount, uint256 maxAmount);
    error RouteDisabled(uint64 dstChainId);
    error UnsupportedTransport(uint8 transport);
    error InvalidRoute();
    error FeeOnTransferToken(address token, uint256 expected, uint256 received);
    error UnsupportedKind(uint8 kind);
    error InsufficientFee(uint256 sent, uint256 needed);
    error RefundFailed(address to);
    error OriginMismatch();
    error AlreadyExecuted(bytes32 messageId);
    error ExceedsOutstanding(address token, uint256 amount, uint256 outstanding);
    error NoInsuranceFund();
    error InvalidVaa(string reason);
    error UnknownEmitter(uint16 emitterChainId, bytes32 emitterAddress);
    error WrongTarget(uint32 targetWormholeChain);
    error VaaAlreadyConsumed(bytes32 vaaHash);

    event RouteSet(uint64 indexed dstChainId, uint8 transport, uint32 lzEid, uint128 lzReceiveGas, uint8 wormholeConsistency, bool enabled);
    event WormholeSet(address indexed wormhole);
    event TokenAllowedSet(address indexed token, bool allowed);
    event MaxLockSet(address indexed token, uint256 maxAmount);
    event PausedSet(bool paused);
    event InsuranceFundSet(address indexed insuranceFund);
    event EngineSet(uint64 indexed engineChainId, address indexed engine, uint16 engineWormholeChain);
    event SettlementExecuted(
        bytes32 indexed messageId,
        uint8 indexed kind,
        address indexed trader,
        uint256 positionId,
        address token,
        uint256 amount,
        address to,
        bytes32 transportId
    );
    event CollateralLocked(
        bytes32 indexed lockId,
        address indexed trader,
        address indexed token,
        uint256 amount,
        uint64 dstChainId,
        uint256 positionId,
        uint64 nonce,
        bytes32 transportId
    );

    constructor(address endpoint_, address owner_) OApp(endpoint_, owner_) Ownable(owner_) {}

    // ---------------------------------------------------------------- owner

    function setRoute(uint64 dstChainId, Route calldata route) external onlyOwner {
        if (route.enabled) {
            if (route.transport == TRANSPORT_LAYERZERO) {
                if (route.lzEid == 0 || route.lzReceiveGas == 0) revert InvalidRoute();
            } else if (route.transport == TRANSPORT_WORMHOLE) {
                if (address(wormhole) == address(0)) revert InvalidRoute();
            } else {
                revert UnsupportedTransport(route.transport);
            }
        }
        routes[dstChainId] = route;
        emit RouteSet(dstChainId, route.transport, route.lzEid, route.lzReceiveGas, route.wormholeConsistency, route.enabled);
    }

    function setWormhole(address wormhole_) external onlyOwner {
        wormhole = IWormhole(wormhole_);
        emit WormholeSet(wormhole_);
    }

    function setTokenAllowed(address token, bool allowed) external onlyOwner {
        tokenAllowed[token] = allowed;
        emit TokenAllowedSet(token, allowed);
    }

    function setMaxLock(address token, uint256 maxAmount) external onlyOwner {
        maxLock[token] = maxAmount;
        emit MaxLockSet(token, maxAmount);
    }

    function setPaused(bool paused_) external onlyOwner {
        paused = paused_;
        emit PausedSet(paused_);
    }

    function setInsuranceFund(address insuranceFund_) external onlyOwner {
        insuranceFund = insuranceFund_;
        emit InsuranceFundSet(insuranceFund_);
    }

    // ---------------------------------------------------------------- trader

    /// @notice Native fee `lock` must be paid with for the same arguments.
    function quoteLock(address token, uint256 amount, uint64 dstChainId, uint256 positionId)
        external
        view
        returns (uint256 nativeFee)
    {
        Route memory route = _enabledRoute(dstChainId);
        // The fee depends on the payload's size, not its contents; quote the message lock would send.
        bytes memory payload = _creditPayload(nonce + 1, msg.sender, positionId, token, amount);
        return _quoteMessage(route, payload);
    }

    function lock(address token, uint256 amount, uint64 dstChainId, uint256 positionId)
        external
        payable
        nonReentrant
        returns (bytes32 lockId)
    {
        if (paused) revert Paused();
        if (!tokenAllowed[token]) revert TokenNotAllowed(token);
        if (amount == 0) revert ZeroLockAmount();
        uint256 cap = maxLock[token];
        if (cap != 0 && amount > cap) revert LockAboveCap(token, amount, cap);
        Route memory route = _enabledRoute(dstChainId);

        // Credit exactly what arrived: a token that skims on transfer would credit more than it holds.
        IERC20 erc20 = IERC20(token);
        uint256 balanceBefore = erc20.balanceOf(address(this));
        erc20.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = erc20.balanceOf(address(this)) - balanceBefore;
        if (received != amount) revert FeeOnTransferToken(token, amount, received);

        uint64 lockNonce = ++nonce;
        lockId = MarginMessages.messageId(uint64(block.chainid), address(this), lockNonce);
        outstanding[token] += amount;

        bytes memory payload = _creditPayload(lockNonce, msg.sender, positionId, token, amount);
        bytes32 transportId = _sendMessage(route, payload, msg.value, msg.sender);

        emit CollateralLocked(lockId, msg.sender, token, amount, dstChainId, positionId, lockNonce, transportId);
    }

    // ---------------------------------------------------------------- transport seam

    /// @dev The only place that sends. Returns the transport's own message id: the LayerZero
    /// guid, or the Wormhole VAA id keccak256(emitterChain, emitter, sequence).
    function _sendMessage(Route memory route, bytes memory payload, uint256 fee, address refund)
        internal
        returns (bytes32 transportId)
    {
        if (route.transport == TRANSPORT_LAYERZERO) {
            return _lzSend(route.lzEid, payload, _lzOptions(route), MessagingFee(fee, 0), refund).guid;
        }
        if (route.transport == TRANSPORT_WORMHOLE) {
            uint256 messageFee = wormhole.messageFee();
            if (fee < messageFee) revert InsufficientFee(fee, messageFee);
            uint64 sequence = wormhole.publishMessage{value: messageFee}(0, payload, route.wormholeConsistency);
            if (fee > messageFee) {
                (bool ok,) = refund.call{value: fee - messageFee}("");
                if (!ok) revert RefundFailed(refund);
            }
            return keccak256(abi.encodePacked(wormhole.chainId(), bytes32(uint256(uint160(address(this)))), sequence));
        }
        revert UnsupportedTransport(route.transport);
    }

    /// @dev The only place that quotes, mirroring _sendMessage.
    function _quoteMessage(Route memory route, bytes memory payload) internal view returns (uint256) {
        if (route.transport == TRANSPORT_LAYERZERO) {
            return _quote(route.lzEid, payload, _lzOptions(route), false).nativeFee;
        }
        if (route.transport == TRANSPORT_WORMHOLE) return wormhole.messageFee();
        revert UnsupportedTransport(route.transport);
    }

    function _lzOptions(Route memory route) internal pure returns (bytes memory) {
        return LzOptions.lzReceive(route.lzReceiveGas);
    }

    // ---------------------------------------------------------------- return path (RELEASE / SEIZE)

    /// @notice Trusts `engine` on EVM chain `engineChainId` (Wormhole chain `engineWormholeChain`)
    /// as the only sender of RELEASE and SEIZE. Its LayerZero peer is set with setPeer.
    function setEngine(uint64 engineChainId_, address engine_, uint16 engineWormholeChain_) external onlyOwner {
        if (engineChainId_ == 0 || engine_ == address(0)) revert InvalidRoute();
        engineChainId = engineChainId_;
        engine = engine_;
        engineWormholeChain = engineWormholeChain_;
        emit EngineSet(engineChainId_, engine_, engineWormholeChain_);
    }

    /// @dev LayerZero: OAppReceiver.lzReceive has checked that the endpoint calls and that the
    /// sender is the peer of its eid (the engine); the endpoint has cleared the payload hash.
    function _lzReceive(
        Origin calldata origin,
        bytes32 guid,
        bytes calldata message,
        address, /* executor */
        bytes calldata /* extraData */
    ) internal override {
        _settle(address(uint160(uint256(origin.sender))), message, guid);
    }

    /// @notice Wormhole: anyone may deliver a VAA the guardians signed. It must come from the
    /// registered engine, name this chain as its target (the VAA nonce carries the target's
    /// Wormhole chain id: a VAA is a broadcast), and each VAA runs once.
    function receiveWormholeMessage(bytes calldata encodedVm) external nonReentrant {
        (IWormhole.VM memory vm, bool valid, string memory reason) = wormhole.parseAndVerifyVM(encodedVm);
        if (!valid) revert InvalidVaa(reason);
        if (vm.emitterChainId != engineWormholeChain || vm.emitterAddress != bytes32(uint256(uint160(engine)))) {
            revert UnknownEmitter(vm.emitterChainId, vm.emitterAddress);
        }
        if (vm.nonce != wormhole.chainId()) revert WrongTarget(vm.nonce);
        if (consumedVaas[vm.hash]) revert VaaAlreadyConsumed(vm.hash);
        consumedVaas[vm.hash] = true;
        _settle(engine, vm.payload, vm.hash);
    }

    /// @dev Both transports end here with the sender they authenticated. Each message id executes
    /// once, and never for more than is still locked of its token.
    function _settle(address sender, bytes memory message, bytes32 transportId) private {
        MarginMessages.Message memory m = MarginMessages.decode(message);
        if (m.kind != MarginMessages.RELEASE && m.kind != MarginMessages.SEIZE) revert UnsupportedKind(m.kind);
        if (engine == address(0) || m.originChainId != engineChainId || m.origin != engine || sender != engine) {
            revert OriginMismatch();
        }
        bytes32 messageId = MarginMessages.messageId(m.originChainId, m.origin, m.nonce);
        if (executed[messageId]) revert AlreadyExecuted(messageId);
        uint256 locked = outstanding[m.token];
        if (m.amount > locked) revert ExceedsOutstanding(m.token, m.amount, locked);
        address to = m.kind == MarginMessages.RELEASE ? m.trader : insuranceFund;
        if (to == address(0)) revert NoInsuranceFund();

        executed[messageId] = true;
        outstanding[m.token] = locked - m.amount;
        IERC20(m.token).safeTransfer(to, m.amount);
        emit SettlementExecuted(messageId, m.kind, m.trader, m.positionId, m.token, m.amount, to, transportId);
    }

    // ---------------------------------------------------------------- internals

    function _enabledRoute(uint64 dstChainId) private view returns (Route memory route) {
        route = routes[dstChainId];
        if (!route.enabled) revert RouteDisabled(dstChainId);
    }

    function _creditPayload(uint64 lockNonce, address trader, uint256 positionId, address token, uint256 amount)
        private
        view
        returns (bytes memory)
    {
        return MarginMessages.encode(
            MarginMessages.Message({
                version: MarginMessages.VERSION,
                kind: MarginMessages.CREDIT,
                originChainId: uint64(block.chainid),
                origin: address(this),
                nonce: lockNonce,
                trader: trader,
                positionId: positionId,
                token: token,
                amount: amount
            })
        );
    }
}
