// Durable state: record and tracking tables (on-demand, PITR, SSE), the claim-check bucket and the secrets.
import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as secrets from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { LIMITS_TABLE, RECORD_TABLE, TRACKING_TABLE } from "#adapters/aws/table-design.ts";

export interface RelayStorageProps {
  /** Expiry of claim-check bodies; they are deleted after delivery, this catches the rest. @default 7 */
  bodyRetentionDays?: number;
  /** Secrets the relay may read are named `<secretPrefix>...`. */
  secretPrefix: string;
  /**
   * Name of an existing secret holding the listener's TLS certificate and key. It is created before
   * the first deploy (docs/aws.md) so the first tasks start with TLS; the stack does not create it,
   * because a listener given a placeholder would fail to start and roll the deployment back.
   * @default none: the listener offers no STARTTLS and 465 is unusable
   */
  tlsSecretName?: string;
}

const S = dynamodb.AttributeType.STRING;

export class RelayStorage extends Construct {
  readonly recordTable: dynamodb.Table;
  readonly trackingTable: dynamodb.Table;
  /** Rate and AUTH-failure counters of the listener tasks, next-hop limits and circuits of deliver (see LIMITS_TABLE). */
  readonly limitsTable: dynamodb.Table;
  readonly bodyBucket: s3.Bucket;
  /** The listener's certificate and key, JSON `{"cert": PEM, "key": PEM}`, when configured. */
  readonly tlsSecret: secrets.ISecret | undefined;
  readonly secretPrefix: string;

  constructor(scope: Construct, id: string, props: RelayStorageProps) {
    super(scope, id);
    this.secretPrefix = props.secretPrefix;
    const tableDefaults = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Records are the relay's configuration and tracking its audit trail: keep both on stack deletion.
      removalPolicy: RemovalPolicy.RETAIN,
    };
    this.recordTable = new dynamodb.Table(this, "Records", {
      ...tableDefaults,
      partitionKey: { name: RECORD_TABLE.partitionKey, type: S },
      sortKey: { name: RECORD_TABLE.sortKey, type: S },
    });
    this.trackingTable = new dynamodb.Table(this, "Tracking", {
      ...tableDefaults,
      partitionKey: { name: TRACKING_TABLE.partitionKey, type: S },
      sortKey: { name: TRACKING_TABLE.sortKey, type: S },
      timeToLiveAttribute: TRACKING_TABLE.ttlAttribute,
    });
    for (const ix of Object.values(TRACKING_TABLE.indexes)) {
      this.trackingTable.addGlobalSecondaryIndex({
        indexName: ix.name,
        partitionKey: { name: ix.partitionKey, type: S },
        sortKey: { name: ix.sortKey, type: S },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    // Its own table rather than a key prefix in tracking: the listener gets write access to counters
    // only, never to the audit trail; and TTL plus on-demand keeps it empty and cheap when idle.
    this.limitsTable = new dynamodb.Table(this, "Limits", {
      ...tableDefaults,
      partitionKey: { name: LIMITS_TABLE.partitionKey, type: S },
      timeToLiveAttribute: LIMITS_TABLE.ttlAttribute,
      // Counters live minutes to a day: nothing worth keeping when the stack goes.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.bodyBucket = new s3.Bucket(this, "Bodies", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: "expire-bodies",
          expiration: Duration.days(props.bodyRetentionDays ?? 7),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      // Retained: CloudFormation cannot delete a bucket that still holds bodies, and emptying it at
      // deletion would need a custom-resource function. Lifecycle empties it within bodyRetentionDays.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bodyBucket).acknowledge({
      id: "AwsSolutions-S1",
      reason:
        "Claim-check bodies are transient (deleted after delivery, expired by lifecycle) and only the relay's own roles can reach them; an access-log bucket would store a second copy of every message's metadata. CloudTrail S3 data events can be enabled if an audit needs object-level access records.",
    });

    if (props.tlsSecretName)
      this.tlsSecret = secrets.Secret.fromSecretNameV2(this, "TlsCertificate", props.tlsSecretName);
  }

  /** Read only the DKIM private keys (`<prefix>dkim/...`): route signs, it needs no other secret. */
  grantDkimRead(owner: Construct, role: iam.IRole): void {
    this.#grantReadUnder(
      owner,
      role,
      "dkim/",
      "DKIM keys are created by the admin tool per sender domain and selector",
    );
  }

  /**
   * Lets the listener read its certificate and the client CA bundles of partner connectors, the
   * secrets `<prefix>tls/<name>` (listener/tls.ts), but not the smart-host credentials beside them.
   */
  grantTlsRead(owner: Construct, role: iam.IRole): void {
    if (!this.tlsSecret) return;
    this.tlsSecret.grantRead(role);
    this.#grantReadUnder(
      owner,
      role,
      "tls/",
      "Client CA bundles are named by receive connector records an admin adds",
    );
  }

  /** GetSecretValue on `<prefix><under>*` only, with the cdk-nag acknowledgement it needs. */
  #grantReadUnder(owner: Construct, role: iam.IRole, under: string, why: string): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["secretsmanager:GetSecretValue"],
        resources: [this.secretArnPattern(under)],
      }),
    );
    Validations.of(owner).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${this.nagSecretResource(under)}]`,
      reason: `${why} at run time, and Secrets Manager appends a random suffix to every ARN; the wildcard covers only the relay's ${under} secrets.`,
    });
  }

  /**
   * A secret ARN pattern as cdk-nag names it: literal when the stack's region (and so its partition,
   * feature flag enablePartitionLiterals) is known, else with the partition token.
   */
  nagSecretResource(under = ""): string {
    const arn = this.secretArnPattern(under);
    if (!Token.isUnresolved(arn)) return arn;
    const stack = Stack.of(this);
    return `arn:<AWS::Partition>:secretsmanager:${stack.region}:${stack.account}:secret:${this.secretPrefix}${under}*`;
  }

  /** ARN pattern of every secret under the prefix, or under `<prefix><under>` (Secrets Manager appends a random 6-character suffix). */
  secretArnPattern(under = ""): string {
    const stack = Stack.of(this);
    return stack.formatArn({
      service: "secretsmanager",
      resource: "secret",
      resourceName: `${this.secretPrefix}${under}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
}
