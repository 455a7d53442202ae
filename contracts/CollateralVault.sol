// SPDX-License-Identifier: MIT
// Source-chain vault: takes a trader's collateral, gives it a lockId from its own nonce and sends a
// CREDIT to the destination engine through the route's transport (LayerZero v2 or Wormhole).
// RELEASE and SEIZE come back from that engine; a SEIZE executes only when this chain's own oracle
// agrees with the price it was decided at (the SEIZE guard, enforced here whoever delivers it):
// otherwise it is parked until a re-check agrees or the guardian releases it.
pragma solidity ^0.8.22;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {OApp, Origin, MessagingFee} from "@layerzerolabs/oapp-evm/contracts/oapp/OApp.sol";
import {MarginMessages} from "./libraries/MarginMessages.sol";
import {LzOptions} from "./libraries/LzOptions.sol";
import {IWormhole} from "./interfaces/IWormhole.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";

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
    /// @notice The smallest lock per token: every lock is a cross-chain message a relayer delivers.
    mapping(address => uint256) public minLock;
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

    /// @notice This chain's oracle for a market, as the SEIZE guard reads it (RELIABILITY 11).
    struct SeizeGuard {
        address feed;
        /// @dev The L2 sequencer-uptime feed; zero where the chain has none.
        address sequencerFeed;
        uint32 heartbeat;
        uint32 sequencerGrace;
        uint16 maxDeviationBps;
    }

    /// @notice Why a SEIZE was parked (SeizeParked's `reason`).
    uint8 public constant PARK_NO_GUARD = 1;
    uint8 public constant PARK_SEQUENCER_DOWN = 2;
    uint8 public constant PARK_SEQUENCER_GRACE = 3;
    uint8 public constant PARK_FEED_INVALID = 4;
    uint8 public constant PARK_FEED_STALE = 5;
    uint8 public constant PARK_DEVIATION = 6;

    /// @notice By market id: the feed a SEIZE decided on that market is checked against.
    mapping(bytes32 => SeizeGuard) public seizeGuards;
    /// @notice May release a parked SEIZE without the price check (an operator's considered decision).
    address public guardian;
    /// @notice SEIZE messages parked by the guard: message id → keccak256 of the message.
    mapping(bytes32 => bytes32) public parkedSeizes;

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
    error LockBelowMinimum(address token, uint256 amount, uint256 minAmount);
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
    error NoEngine();
    error NotForThisVault(uint64 targetChainId, address target);
    error NotParked(bytes32 messageId);
    error SeizeStillDisputed(bytes32 messageId, uint8 reason);
    error NotGuardian(address caller);

    event RouteSet(uint64 indexed dstChainId, uint8 transport, uint32 lzEid, uint128 lzReceiveGas, uint8 wormholeConsistency, bool enabled);
    event WormholeSet(address indexed wormhole);
    event TokenAllowedSet(address indexed token, bool allowed);
    event MaxLockSet(address indexed token, uint256 maxAmount);
    event MinLockSet(address indexed token, uint256 minAmount);
    event PausedSet(bool paused);
    event InsuranceFundSet(address indexed insuranceFund);
    event EngineSet(uint64 indexed engineChainId, address indexed engine, uint16 engineWormholeChain);
    event SeizeGuardSet(bytes32 indexed market, SeizeGuard guard);
    event GuardianSet(address indexed guardian);
    /// @notice This chain's oracle disputes the SEIZE's price (or cannot be read): nothing moved.
    event SeizeParked(bytes32 indexed messageId, bytes32 indexed market, uint256 price, uint8 reason, uint256 ownPrice);
    /// @notice A parked SEIZE executed: after a re-check that agreed, or released by the guardian.
    event SeizeUnparked(bytes32 indexed messageId, bool byGuardian);
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

    function setMinLock(address token, uint256 minAmount) external onlyOwner {
        minLock[token] = minAmount;
        emit MinLockSet(token, minAmount);
    }

    function setPaused(bool paused_) external onlyOwner {
        paused = paused_;
        emit PausedSet(paused_);
    }

    function setInsuranceFund(address insuranceFund_) external onlyOwner {
        insuranceFund = insuranceFund_;
        emit InsuranceFundSet(insuranceFund_);
    }

    function setSeizeGuard(bytes32 market, SeizeGuard calldata guard) external onlyOwner {
        if (guard.feed == address(0) || guard.heartbeat == 0 || guard.maxDeviationBps == 0) revert InvalidRoute();
        seizeGuards[market] = guard;
        emit SeizeGuardSet(market, guard);
    }

    function setGuardian(address guardian_) external onlyOwner {
        guardian = guardian_;
        emit GuardianSet(guardian_);
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
        bytes memory payload = _creditPayload(nonce + 1, msg.sender, positionId, token, amount, dstChainId);
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
        if (amount < minLock[token]) revert LockBelowMinimum(token, amount, minLock[token]);
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

        bytes memory payload = _creditPayload(lockNonce, msg.sender, positionId, token, amount, dstChainId);
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
    /// once, and never for more than is still locked of its token. A SEIZE whose price this chain's
    /// oracle disputes is parked, not executed: nothing moves.
    function _settle(address sender, bytes memory message, bytes32 transportId) private {
        MarginMessages.Message memory m = MarginMessages.decode(message);
        if (m.kind != MarginMessages.RELEASE && m.kind != MarginMessages.SEIZE) revert UnsupportedKind(m.kind);
        if (engine == address(0) || m.originChainId != engineChainId || m.origin != engine || sender != engine) {
            revert OriginMismatch();
        }
        if (m.targetChainId != block.chainid || m.target != address(this)) revert NotForThisVault(m.targetChainId, m.target);
        bytes32 messageId = MarginMessages.messageId(m.originChainId, m.origin, m.nonce);
        if (executed[messageId] || parkedSeizes[messageId] != bytes32(0)) revert AlreadyExecuted(messageId);
        if (m.kind == MarginMessages.SEIZE) {
            (uint8 reason, uint256 own) = seizeDispute(m.market, m.price);
            if (reason != 0) {
                parkedSeizes[messageId] = keccak256(message);
                emit SeizeParked(messageId, m.market, m.price, reason, own);
                return;
            }
        }
        _execute(messageId, m, transportId);
    }

    /// @notice Anyone: checks a parked SEIZE's price again and executes it if this chain's oracle now agrees.
    function retrySeize(bytes calldata message) external nonReentrant {
        (bytes32 messageId, MarginMessages.Message memory m) = _parked(message);
        (uint8 reason,) = seizeDispute(m.market, m.price);
        if (reason != 0) revert SeizeStillDisputed(messageId, reason);
        delete parkedSeizes[messageId];
        emit SeizeUnparked(messageId, false);
        _execute(messageId, m, bytes32(0));
    }

    /// @notice The guardian: executes a parked SEIZE without the price check.
    function releaseSeize(bytes calldata message) external nonReentrant {
        (bytes32 messageId, MarginMessages.Message memory m) = _unparkByGuardian(message);
        _execute(messageId, m, bytes32(0));
    }

    /// @notice The guardian: a parked SEIZE that was wrong (a manipulated liquidation) goes back to the
    /// trader instead of the insurance fund, once. The engine's books already closed the position.
    function returnSeize(bytes calldata message) external nonReentrant {
        (bytes32 messageId, MarginMessages.Message memory m) = _unparkByGuardian(message);
        m.kind = MarginMessages.RELEASE; // executed as a release to the trader
        _execute(messageId, m, bytes32(0));
    }

    function _unparkByGuardian(bytes calldata message) private returns (bytes32 messageId, MarginMessages.Message memory m) {
        if (msg.sender != guardian || guardian == address(0)) revert NotGuardian(msg.sender);
        (messageId, m) = _parked(message);
        delete parkedSeizes[messageId];
        emit SeizeUnparked(messageId, true);
    }

    /// @notice Why this chain's oracle disputes `price` for `market` (a PARK_ code), or 0 when it agrees;
    /// with the oracle's own price (1e18) when it could be read.
    function seizeDispute(bytes32 market, uint256 price) public view returns (uint8 reason, uint256 own) {
        SeizeGuard memory g = seizeGuards[market];
        if (g.feed == address(0)) return (PARK_NO_GUARD, 0);
        if (g.sequencerFeed != address(0)) {
            try AggregatorV3Interface(g.sequencerFeed).latestRoundData() returns (uint80, int256 status, uint256 startedAt, uint256, uint80) {
                if (status != 0) return (PARK_SEQUENCER_DOWN, 0);
                if (startedAt == 0 || block.timestamp < startedAt + g.sequencerGrace) return (PARK_SEQUENCER_GRACE, 0);
            } catch {
                return (PARK_FEED_INVALID, 0);
            }
        }
        uint8 d;
        try AggregatorV3Interface(g.feed).decimals() returns (uint8 decimals_) {
            d = decimals_;
        } catch {
            return (PARK_FEED_INVALID, 0);
        }
        if (d > 18) return (PARK_FEED_INVALID, 0);
        try AggregatorV3Interface(g.feed).latestRoundData() returns (uint80 roundId, int256 answer, uint256, uint256 updatedAt, uint80 answeredInRound) {
            if (answer <= 0 || answeredInRound < roundId) return (PARK_FEED_INVALID, 0);
            own = uint256(answer) * 10 ** (18 - d);
            if (updatedAt + g.heartbeat < block.timestamp) return (PARK_FEED_STALE, own);
        } catch {
            return (PARK_FEED_INVALID, 0);
        }
        uint256 gap = own > price ? own - price : price - own;
        if (gap * 10_000 > price * g.maxDeviationBps) return (PARK_DEVIATION, own);
        return (0, own);
    }

    function _parked(bytes calldata message) private view returns (bytes32 messageId, MarginMessages.Message memory m) {
        m = MarginMessages.decode(message);
        messageId = MarginMessages.messageId(m.originChainId, m.origin, m.nonce);
        bytes32 hash = parkedSeizes[messageId];
        if (hash == bytes32(0) || hash != keccak256(message)) revert NotParked(messageId);
    }

    function _execute(bytes32 messageId, MarginMessages.Message memory m, bytes32 transportId) private {
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

    /// @dev A CREDIT names the one engine this vault trusts (the one that can RELEASE it back).
    function _creditPayload(uint64 lockNonce, address trader, uint256 positionId, address token, uint256 amount, uint64 dstChainId)
        private
        view
        returns (bytes memory)
    {
        if (engine == address(0) || dstChainId != engineChainId) revert NoEngine();
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
                amount: amount,
                targetChainId: engineChainId,
                target: engine,
                market: bytes32(0),
                price: 0
            })
        );
    }
}
